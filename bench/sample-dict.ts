/** The small dictionary the dictionary cases send: about 200 bytes of JSON, realistic fields. */
import type { JsonObject } from "gb-transfer";

const USERS = ["amelia.hartmann", "noah.okafor", "li.wei", "sofia.marquez"] as const;
const PLANS = ["free", "team", "enterprise"] as const;

/** Record number `index`: the same shape every time, a few values varying with the index. */
export function sampleRecord(index: number): JsonObject {
  const user = USERS[index % USERS.length]!;
  return {
    id: 100_000 + index,
    user,
    email: `${user}@example.org`,
    active: index % 7 !== 0,
    score: 87.25 + (index % 10),
    visits: 1342 + index,
    tags: ["beta", "eu-west", "mobile"],
    lastLogin: "2024-05-17T09:31:22.512Z",
    verified: index % 2 === 0,
    plan: PLANS[index % PLANS.length]!,
  };
}
