import type { Socket } from "node:net";
import { ErrorCode, NetworkError, ProtocolError, RefusedError, toGbError } from "../../errors.js";
import type { ParsedFrame } from "../../framing/frame.js";
import { FrameParser } from "../../framing/frame-parser.js";
import type { FrameWriter } from "../../framing/frame-writer.js";
import { CLIENT_FRAME_LIMITS, FrameType, MAX_CHUNK_FRAME_BYTES } from "../../protocol/constants.js";
import { decodeItemHeader } from "../../protocol/messages.js";
import { commitBatch } from "./batch-commit.js";
import { InboundBatch } from "./inbound-batch.js";
import { admitItem, type AdmissionChannel } from "./item-admission.js";
import { checkClientVersion } from "./client-version.js";
import { InboundItem } from "./inbound-item.js";
import { commitItem, NamingOrder } from "./item-commit.js";
import type { Peer, SessionInfo } from "./received-item.js";
import type { ResumeOffer } from "./resume-offer.js";
import { SessionAnswers, type RefusedItem } from "./session-answers.js";
import type { SessionContext } from "./session-context.js";
import { SessionDeadlines } from "./session-deadlines.js";
import { SessionTransport } from "./session-transport.js";
import { answerHave } from "./have-answer.js";
import { journaled, TreeJournals } from "./tree-journal.js";
import { TreePlacement } from "./tree-placement.js";
import { unexpectedFrame as unexpected } from "./unexpected-frame.js";

type State = "preamble" | "start" | "ready" | "offer" | "item" | "discard" | "closed";

/**
 * The server side of one connection: the state machine of [S-SEQUENCE]. Frames are
 * handled strictly in order; while an asynchronous step is in progress parsing waits and,
 * once a frame's worth of bytes is buffered, the socket is paused (no unbounded buffer).
 * An {@link InboundItem} is committed by {@link commitItem} or ends in {@link #endItem}.
 */
export class ServerSession {
  readonly peer: Peer;
  readonly #socket: Socket;
  readonly #context: SessionContext;
  readonly #parser = new FrameParser(CLIENT_FRAME_LIMITS, { expectPreamble: true });
  /** Frames in the clear, or in records once the handshake is done [R-RECORD]. */
  readonly #transport: SessionTransport;
  #state: State = "preamble";
  #busy = false;
  #nextId = 1;
  /** Where the entries of the trees this connection sends go [T-ORDER]. */
  readonly #tree: TreePlacement;
  /** [RES-JOURNAL] What this connection's trees that resume read and keep. */
  readonly #journals: TreeJournals;
  /** Items named in item order, however their flushes overlap [V-GROUP]. */
  readonly #naming = new NamingOrder();
  /** The items' answers, in item order [K-ORDER]. */
  readonly #answers: SessionAnswers;
  /** The item whose frames are arriving; a complete item being committed is not here. */
  #item: InboundItem | InboundBatch | undefined;
  /** What admitting an item needs of the session. */
  readonly #admission: AdmissionChannel;
  /** The OFFER of the item awaiting its RESUME [RES-OFFER]. */
  #offer: ResumeOffer | undefined;
  #draining = false;
  /** The client has half-closed: no more bytes will arrive. */
  #ended = false;
  readonly #closed: Promise<void>;
  /** Partial files being removed, which {@link closed} waits for (not commits); never reject. */
  readonly #fileWork: Promise<void>[] = [];
  readonly #deadlines: SessionDeadlines;

  constructor(socket: Socket, peer: Peer, context: SessionContext) {
    this.#socket = socket;
    this.peer = peer;
    this.#context = context;
    this.#journals = new TreeJournals(context.resume);
    this.#transport = new SessionTransport(socket, this.#parser, context);
    this.#answers = new SessionAnswers({
      peer,
      context,
      writer: () => this.#writer,
      session: () => this.session,
      destroy: () => socket.destroy(),
    });
    const store = context.store;
    this.#tree = new TreePlacement(
      store?.directory ?? null,
      (directory) => (store === null ? Promise.resolve() : store.syncDirectory(directory)),
      this.#journals,
    );
    this.#admission = {
      context,
      tree: this.#tree,
      offer: (payload) => this.#writer.writeFrame(FrameType.OFFER, payload),
      destroy: this.destroy,
    };
    this.#closed = new Promise((resolve) =>
      socket.once("close", () => {
        resolve();
      }),
    );
    socket.setNoDelay(true);
    // [S-TIMEOUT] a connection silent for the idle timeout is told TIMEOUT and closed.
    socket.setTimeout(context.idleTimeoutMs);
    socket.on("timeout", () => {
      this.#fatal(new NetworkError(ErrorCode.TIMEOUT, "no data from the client; closing"));
    });
    // [S-TIMEOUT] and deadlines for the opening and for an item's progress.
    this.#deadlines = new SessionDeadlines(context.deadlines, {
      inProgress: () => this.#inProgress,
      // Committing items (the disk, a dictionary's worker) are the server's own wait too.
      serverWaiting: () => this.#busy || this.#answers.pending,
      fail: (error) => {
        this.#fatal(error);
      },
    });
    socket.on("data", (chunk: Buffer) => {
      // After a fatal error nothing more is read into memory; the bytes are dropped.
      if (this.#state === "closed") return;
      this.#deadlines.received(chunk.length);
      this.#transport.receive(chunk);
      if (this.#busy) this.#pauseIfFull();
      else this.#pump();
    });
    socket.on("end", () => {
      this.#ended = true;
      this.#pump();
    });
    socket.on("error", () => {
      // The peer reset or the network failed; "close" follows and cleans up.
    });
    socket.on("close", () => {
      this.#onClose();
    });
    this.#transport.greet();
  }

  /** The session as far as it got: plain until a handshake succeeds. */
  get session(): SessionInfo {
    return this.#transport.session;
  }

  /** The writer of the moment: in the clear, or into records. */
  get #writer(): FrameWriter {
    return this.#transport.writer;
  }

  readonly #out = (): FrameWriter => this.#writer;

  /** What the connection holds of received bytes not yet handled [F-COALESCE]. */
  get readBuffers(): { readonly chunks: number; readonly bytes: number } {
    return { chunks: this.#parser.bufferedChunks, bytes: this.#parser.bufferedBytes };
  }

  /** Resolves once the connection has closed and a partial file it cut short is removed. */
  get closed(): Promise<void> {
    return this.#closed.then(async () => {
      await Promise.all(this.#fileWork);
    });
  }

  /** Stops after the item in progress: an idle connection is told SHUTTING_DOWN and closed. */
  drain(): void {
    this.#draining = true;
    if (this.#state === "ready" || this.#state === "preamble" || this.#state === "start") {
      this.#fatal(new RefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down"));
    }
  }

  /** True while the client is in the middle of an item, a frame or a record. */
  get #inProgress(): boolean {
    if (this.#state === "item" || this.#state === "discard") return true;
    // [RES-RESUME] awaiting a RESUME is between items, unless a frame is under way.
    const between = this.#state === "ready" || this.#state === "offer";
    return between && !this.#transport.atBoundary;
  }

  /** Closes the connection now, discarding any partial item (keeping a resumable one). */
  readonly destroy = (): void => void this.#socket.destroy();

  #pump(): void {
    while (!this.#busy && this.#state !== "closed") {
      let unit;
      try {
        unit = this.#parser.next();
      } catch (error) {
        this.#fatal(error);
        return;
      }
      if (unit === undefined) {
        // [R-FAIL] every frame before the bad record has been handled.
        const recordFailure = this.#transport.recordFailure;
        if (recordFailure !== undefined) this.#fatal(recordFailure);
        else if (this.#ended) this.#onEnd();
        return;
      }
      let pending: Promise<void> | undefined;
      try {
        if (unit.kind === "preamble") this.#onPreamble(unit.version);
        else pending = this.#onFrame(unit.frame);
      } catch (error) {
        this.#fatal(error);
        return;
      }
      // [V-BACKPRESSURE] Receipts a client does not read are not queued without bound:
      // reading stops until they drain, after a frame handled at once or after a wait.
      if (pending === undefined) {
        if (this.#socket.writableNeedDrain) pending = this.#writer.drain();
      } else pending = pending.then(() => this.#drainIfNeeded());
      if (pending !== undefined) {
        // Parsing waits; reading goes on until a chunk's worth is buffered (no pause).
        this.#busy = true;
        this.#deadlines.serverWaited();
        this.#pauseIfFull();
        pending.then(
          () => {
            this.#busy = false;
            if (this.#state === "closed") return;
            if (this.#socket.isPaused()) this.#socket.resume();
            this.#pump();
          },
          (error: unknown) => {
            this.#busy = false;
            this.#fatal(error);
          },
        );
      }
    }
  }

  /** Waits for the socket to drain when what the server wrote is more than it holds. */
  #drainIfNeeded(): Promise<void> | undefined {
    if (this.#state === "closed" || !this.#socket.writableNeedDrain) return undefined;
    return this.#writer.drain();
  }

  /** Stops reading while busy once a whole frame's worth of bytes waits unparsed. */
  #pauseIfFull(): void {
    if (this.#parser.bufferedBytes >= MAX_CHUNK_FRAME_BYTES) this.#socket.pause();
  }

  #onPreamble(version: number): void {
    checkClientVersion(version);
    this.#state = "start";
  }

  /**
   * [H-MODE] The client's first frame chooses the mode: HANDSHAKE starts a Noise
   * session; ITEM starts a plain connection, if the policy lets this peer [H-POLICY].
   */
  #onFirstFrame(frame: ParsedFrame): Promise<void> | undefined {
    if (frame.type === FrameType.HANDSHAKE) {
      this.#transport.respond(frame.payload);
      this.#state = "ready";
      this.#deadlines.opened();
      return undefined;
    }
    // [RES-HAVE] a plain connection may ask about a tree before its first ITEM.
    const have = frame.type === FrameType.HAVE;
    if (frame.type !== FrameType.ITEM && !have) throw unexpected(frame.type, "a HANDSHAKE or ITEM");
    if (!this.#transport.plainAllowed) {
      throw new RefusedError(ErrorCode.ENCRYPTION_REQUIRED, "only encrypted from this address");
    }
    this.#state = "ready";
    this.#deadlines.opened();
    return have ? this.#answerHave(frame.payload) : this.#beginItem(frame.payload);
  }

  /** [RES-HAVE] A tree is coming: the writer of its small files starts meanwhile. */
  #answerHave(payload: Buffer): Promise<void> | undefined {
    this.#context.smallFiles?.warmUp();
    return answerHave(payload, this.#journals, this.#tree, this.#out);
  }

  /** [S-SEQUENCE] One frame in the current state. A throw ends the connection. */
  #onFrame(frame: ParsedFrame): Promise<void> | undefined {
    const type = frame.type;
    switch (this.#state) {
      case "start":
        return this.#onFirstFrame(frame);
      case "ready":
        if (type === FrameType.HAVE) return this.#answerHave(frame.payload);
        if (type !== FrameType.ITEM) throw unexpected(type, "an ITEM or HAVE frame");
        return this.#beginItem(frame.payload);
      case "offer":
        if (type === FrameType.RESUME) return this.#onResume(frame.payload);
        throw unexpected(type, "a RESUME frame");
      case "item":
        if (type === FrameType.CHUNK) return this.#onChunk(frame, false);
        if (type === FrameType.LAST_CHUNK) return this.#onChunk(frame, true);
        throw unexpected(type, "a CHUNK or LAST_CHUNK frame");
      case "discard":
        // [S-END] The rest of a refused item is dropped unread, whatever its length
        // ([F-LIMIT] still bounds it): a client told of the refusal mid-item ends the item
        // with an empty LAST_CHUNK, sealed or not; [RES-RESUME] a RESUME sent meanwhile too.
        if (type === FrameType.CHUNK || type === FrameType.RESUME) return undefined;
        if (type === FrameType.LAST_CHUNK) return this.#afterItem();
        throw unexpected(type, "a CHUNK or LAST_CHUNK frame");
      default:
        throw unexpected(type, "nothing");
    }
  }

  #beginItem(payload: Buffer): Promise<void> | undefined {
    const header = decodeItemHeader(payload);
    // [M-ITEM-ID] ids count up from 1 so receipts and errors are unambiguous.
    if (header.id !== this.#nextId) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `item id ${header.id} is out of sequence; expected ${this.#nextId}`,
      );
    }
    this.#nextId++;
    const admitted = admitItem(header, this.#admission);
    this.#state = "item";
    if ("refused" in admitted) {
      return this.#endItem({ id: header.id, name: header.meta.name }, admitted.refused, false);
    }
    const { item, offer, opening } = admitted;
    this.#item = item;
    this.#offer = offer;
    if (offer !== undefined) this.#state = "offer";
    return opening?.then(
      ({ discarded }) => {
        // The item ended meanwhile: closed waits for its file's removal.
        if (discarded !== undefined) this.#fileWork.push(discarded);
      },
      (error: unknown) => this.#endItem(item, error, false),
    );
  }

  /** [RES-RESUME] The client's answer to the OFFER: the item's data follows. */
  #onResume(payload: Buffer): Promise<void> | undefined {
    const [offer, item] = [this.#offer, this.#item];
    if (offer === undefined || item === undefined) throw unexpected(FrameType.RESUME, "an ITEM");
    this.#offer = undefined;
    const emptying = offer.accept(payload);
    this.#state = "item";
    return emptying?.catch((error: unknown) => this.#endItem(item, error, false));
  }

  #onChunk(frame: ParsedFrame, last: boolean): Promise<void> | undefined {
    const item = this.#item;
    if (item === undefined) throw unexpected(frame.type, "an ITEM frame");
    item.checkChunkLength(frame.length, last);
    let pending: Promise<void> | undefined;
    try {
      pending = item.receive(frame.parts, frame.length);
    } catch (error) {
      return this.#endItem(item, error, last);
    }
    this.#context.onProgress(this.peer, item);
    if (pending !== undefined) {
      return pending.then(
        () => (last ? this.#finishItem(item) : undefined),
        (error: unknown) => this.#endItem(item, error, last),
      );
    }
    return last ? this.#finishItem(item) : undefined;
  }

  /**
   * Commits an item whose LAST_CHUNK arrived, alongside the items after it [V-GROUP]; its
   * answer goes out in item order once its file and name are durable. The session waits
   * only while as many answers as {@link SessionAnswers.room} allows are held.
   */
  #finishItem(item: InboundItem | InboundBatch): Promise<void> | undefined {
    // The connection may have ended the item while its last write waited for the disk.
    if (item.released) return undefined;
    // From here the item is the commit's alone: a connection that drops now does not make
    // it "truncated" (all its bytes arrived); it is stored and reported once.
    this.#item = undefined;
    const discard = (): void => void this.#discard(item);
    const { peer, session } = this;
    try {
      if (item instanceof InboundBatch) {
        // [T-BATCH] each file as the entry it stands for; one that fails frees its memory.
        const batch = commitBatch(
          item,
          this.#context,
          peer,
          session,
          this.#tree,
          this.#naming,
          (file) => void this.#discard(file),
        );
        this.#answers.committedBatch(item, batch, discard);
      } else {
        const turn = this.#naming.next();
        const commit = commitItem(item, this.#context, peer, session, this.#tree, turn);
        // [RES-JOURNAL] an entry of a tree that resumes is journaled before its receipt.
        this.#answers.committed(item, journaled(item, commit), discard);
      }
    } catch (error) {
      return this.#endItem(item, error, true);
    }
    return this.#afterItem() ?? this.#answers.room();
  }

  /**
   * Ends an item that did not make it, whatever ended it (admission, receiving, storing,
   * a connection error or close): the one place its budget and partial file are released
   * ({@link InboundItem.release}); the failure is reported once, in item order, and sent as
   * an item ERROR while the client can hear; the rest of the item is then dropped up to its
   * LAST_CHUNK, unless `sawLast`.
   *
   * @returns a promise that resolves once the partial file is gone (never rejects).
   */
  #endItem(
    item: InboundItem | InboundBatch | RefusedItem,
    cause: unknown,
    sawLast: boolean,
  ): Promise<void> | undefined {
    const inbound = "release" in item ? item : undefined;
    // Ended already (the connection closed while a write or the file's creation waited).
    if (inbound?.released === true) return undefined;
    if (this.#item === inbound) this.#item = undefined;
    // [RES-FAIL] a partial outlives its connection, not its item's own failure.
    const keep = this.#state === "closed";
    const discarded = inbound === undefined ? undefined : this.#discard(inbound, keep);
    this.#answers.failed(item, cause);
    if (this.#state === "closed") return discarded;
    if (!sawLast) this.#state = "discard";
    else void this.#afterItem();
    return discarded;
  }

  /** Releases what the item holds; resolves once its partial file is gone (never rejects). */
  #discard(item: InboundItem | InboundBatch, keep = false): Promise<void> | undefined {
    const discarded = item.release(keep);
    if (discarded !== undefined) this.#fileWork.push(discarded);
    return discarded;
  }

  /** Ready for the next ITEM; when draining, closes once every answer has gone out. */
  #afterItem(): Promise<void> | undefined {
    if (this.#state === "closed") return undefined;
    this.#state = "ready";
    if (!this.#draining) return undefined;
    const shutDown = (): void => {
      this.#fatal(new RefusedError(ErrorCode.SHUTTING_DOWN, "the server is shutting down"));
    };
    const answered = this.#answers.idle();
    if (answered === undefined) shutDown();
    return answered?.then(shutDown);
  }

  /** Called once every complete unit sent before the client's half-close is handled. */
  #onEnd(): void {
    if (this.#state === "closed") return;
    const atBoundary = this.#transport.atBoundary;
    if ((this.#state === "ready" || this.#state === "start") && atBoundary) {
      // A clean goodbye between items; committing items still get their answers first.
      this.#state = "closed";
      this.#deadlines.stop();
      this.#answers.end();
      return;
    }
    // [S-END] Mid-item (ITEM or DISCARD), or mid-frame: a connection error, without id.
    // [R-END] Mid-record too: the bytes of a record cut short are never released.
    this.#fatal(
      new ProtocolError(
        ErrorCode.TRUNCATED,
        atBoundary
          ? "the connection ended in the middle of an item"
          : "the connection ended in the middle of a frame or record",
      ),
    );
  }

  /**
   * Reports a connection-ending error to the peer (when it can still hear) and closes; an
   * item still arriving fails with it (one refused, in DISCARD, was reported then).
   */
  #fatal(cause: unknown): void {
    if (this.#state === "closed") return;
    const error = toGbError(cause, "connection failed");
    this.#state = "closed";
    this.#deadlines.stop();
    const item = this.#item;
    // The answers of items already committing go first; the ERROR ends the stream. An
    // item still arriving reports the failure itself.
    this.#answers.fatal(error, item !== undefined);
    if (item !== undefined) void this.#endItem(item, error, false);
  }

  #onClose(): void {
    this.#deadlines.stop();
    if (this.#state === "closed") return;
    this.#state = "closed";
    const item = this.#item;
    if (item !== undefined) {
      void this.#endItem(
        item,
        new ProtocolError(ErrorCode.TRUNCATED, "the connection closed in the middle of the item"),
        false,
      );
    }
  }
}
