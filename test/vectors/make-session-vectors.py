#!/usr/bin/env python3
"""Writes test/vectors/session-vectors.json: a complete version-2 session, encrypted and
plain (PROTOCOL.md, "Test vectors").

An implementation of Noise_NNpsk0_25519_AESGCM_SHA256 written from the Noise
specification (revision 34) on Python's `cryptography` package, independent of the
TypeScript sources, so that the vectors check them rather than repeat them.
Checked against the published cacophony vector of Noise_NNpsk0_25519_AESGCM_SHA256
(test/vectors/noise/) when it was written. Run:
  python3 test/vectors/make-session-vectors.py > test/vectors/session-vectors.json
  npx prettier --write test/vectors/session-vectors.json
"""
import hashlib
import hmac
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MASTER_KEY = bytes(range(0x00, 0x20))
CLIENT_EPHEMERAL = bytes(range(0x40, 0x60))
SERVER_EPHEMERAL = bytes(range(0x60, 0x80))
SCRYPT_SALT = bytes([0x5A] * 16)
PROTOCOL_NAME = b"Noise_NNpsk0_25519_AESGCM_SHA256"
FINGERPRINT_INFO = b"gb-transfer/2 session fingerprint"

HELLO, ITEM, CHUNK, LAST_CHUNK, RECEIPT, ERROR, HANDSHAKE = 1, 2, 3, 4, 5, 6, 7


def json_text(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def frame(frame_type, payload):
    return struct.pack(">BI", frame_type, len(payload)) + payload


def preamble(version):
    return b"GBTP\r\n" + struct.pack(">H", version)


def public(private):
    key = X25519PrivateKey.from_private_bytes(private).public_key()
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def dh(private, public_bytes):
    return X25519PrivateKey.from_private_bytes(private).exchange(
        X25519PublicKey.from_public_bytes(public_bytes)
    )


def hmac_hash(key, data):
    return hmac.new(key, data, hashlib.sha256).digest()


def noise_hkdf(chaining_key, ikm, outputs):
    temp = hmac_hash(chaining_key, ikm)
    out1 = hmac_hash(temp, b"\x01")
    out2 = hmac_hash(temp, out1 + b"\x02")
    if outputs == 2:
        return out1, out2
    return out1, out2, hmac_hash(temp, out2 + b"\x03")


def nonce(n):
    return b"\x00" * 4 + struct.pack(">Q", n)


class Symmetric:
    def __init__(self):
        self.h = PROTOCOL_NAME.ljust(32, b"\x00")  # the name is exactly 32 bytes
        self.ck = self.h
        self.k = None
        self.n = 0

    def mix_hash(self, data):
        self.h = hashlib.sha256(self.h + data).digest()

    def mix_key(self, ikm):
        self.ck, temp_k = noise_hkdf(self.ck, ikm, 2)
        self.k, self.n = temp_k[:32], 0

    def mix_key_and_hash(self, ikm):
        self.ck, temp_h, temp_k = noise_hkdf(self.ck, ikm, 3)
        self.mix_hash(temp_h)
        self.k, self.n = temp_k[:32], 0

    def encrypt_and_hash(self, plaintext):
        ciphertext = AESGCM(self.k).encrypt(nonce(self.n), plaintext, self.h)
        self.n += 1
        self.mix_hash(ciphertext)
        return ciphertext

    def split(self):
        k1, k2 = noise_hkdf(self.ck, b"", 2)
        return k1[:32], k2[:32]


def handshake(prologue):
    """Both sides of NNpsk0 (-> psk, e / <- e, ee), empty payloads, run as one transcript."""
    state = Symmetric()
    state.mix_hash(prologue)
    # Message 1, -> psk, e: the PSK is mixed first, then e (MixHash and, in a PSK
    # handshake, MixKey), then the empty payload is encrypted.
    state.mix_key_and_hash(MASTER_KEY)
    client_e = public(CLIENT_EPHEMERAL)
    state.mix_hash(client_e)
    state.mix_key(client_e)
    message1 = client_e + state.encrypt_and_hash(b"")
    # Message 2, <- e, ee.
    server_e = public(SERVER_EPHEMERAL)
    state.mix_hash(server_e)
    state.mix_key(server_e)
    state.mix_key(dh(SERVER_EPHEMERAL, client_e))
    assert dh(CLIENT_EPHEMERAL, server_e) == dh(SERVER_EPHEMERAL, client_e)
    message2 = server_e + state.encrypt_and_hash(b"")
    c1, c2 = state.split()
    return message1, message2, state.h, c1, c2


def fingerprint(handshake_hash):
    digits = HKDF(
        algorithm=hashes.SHA256(), length=8, salt=None, info=FINGERPRINT_INFO
    ).derive(handshake_hash).hex()
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


class Records:
    def __init__(self, key):
        self.aead = AESGCM(key)
        self.n = 0

    def seal(self, plaintext):
        ciphertext = self.aead.encrypt(nonce(self.n), plaintext, b"")
        self.n += 1
        return struct.pack(">H", len(ciphertext)) + ciphertext


DICT_TEXT = b'{"hello":"world"}'
# The dictionary as the server stores it [V-DICT] (pretty-printed JSON text): its own
# SHA-256 is the receipt's storedSha256 [M-RECEIPT-STORED].
STORED_DICT_TEXT = b'{\n  "hello": "world"\n}\n'
FILE_TEXT = b"hello, gb-transfer\n"


def items():
    item1 = {"id": 1, "meta": {"kind": "dict", "format": "json", "name": "greeting.json", "size": len(DICT_TEXT)}}
    item2 = {"id": 2, "meta": {"kind": "file", "name": "hello.txt", "size": len(FILE_TEXT)}}
    receipt1 = {"id": 1, "receipt": {"kind": "dict", "name": "greeting.json", "bytes": len(DICT_TEXT),
                                     "sha256": hashlib.sha256(DICT_TEXT).hexdigest(), "savedAs": "greeting.json",
                                     "storedSha256": hashlib.sha256(STORED_DICT_TEXT).hexdigest()}}
    receipt2 = {"id": 2, "receipt": {"kind": "file", "name": "hello.txt", "bytes": len(FILE_TEXT),
                                     "sha256": hashlib.sha256(FILE_TEXT).hexdigest(), "savedAs": "hello.txt"}}
    return item1, item2, receipt1, receipt2


def step(what, data, **extra):
    return {"what": what, **extra, "hex": data.hex()}


def main():
    client_preamble = preamble(2)
    server_preamble = preamble(2)
    hello_json = {"server": "gb-transfer/2.0.0", "scryptSalt": SCRYPT_SALT.hex(), "accepts": ["noise"]}
    hello = frame(HELLO, json_text(hello_json))
    prologue = client_preamble + server_preamble + hello
    message1, message2, handshake_hash, c1, c2 = handshake(prologue)
    item1, item2, receipt1, receipt2 = items()
    item1_frames = frame(ITEM, json_text(item1)) + frame(LAST_CHUNK, DICT_TEXT)
    item2_frames = frame(ITEM, json_text(item2)) + frame(LAST_CHUNK, FILE_TEXT)
    to_server = Records(c1)
    to_client = Records(c2)

    plain_hello_json = dict(hello_json, accepts=["noise", "plain"])
    vectors = {
        "description": "A complete version-2 session (PROTOCOL.md, Test vectors), written by "
        "test/vectors/make-session-vectors.py, an implementation independent of src/. "
        "Byte strings are lower-case hex.",
        "masterKey": MASTER_KEY.hex(),
        "clientEphemeralPrivateKey": CLIENT_EPHEMERAL.hex(),
        "serverEphemeralPrivateKey": SERVER_EPHEMERAL.hex(),
        "scryptSalt": SCRYPT_SALT.hex(),
        "prologue": prologue.hex(),
        "handshakeHash": handshake_hash.hex(),
        "fingerprint": fingerprint(handshake_hash),
        "clientToServerKey": c1.hex(),
        "serverToClientKey": c2.hex(),
        "encrypted": {
            "clientToServer": [
                step("client preamble, version 2", client_preamble),
                step("HANDSHAKE, message 1 (-> psk, e): e, then the tag of the empty payload",
                     frame(HANDSHAKE, message1)),
                step("record 0: ITEM 1 (a json dictionary) and its LAST_CHUNK",
                     to_server.seal(item1_frames), frames=[item1, DICT_TEXT.decode()]),
                step("record 1: ITEM 2 (a file) and its LAST_CHUNK",
                     to_server.seal(item2_frames), frames=[item2, FILE_TEXT.decode()]),
            ],
            "serverToClient": [
                step("server preamble, version 2", server_preamble),
                step("HELLO", hello, json=hello_json),
                step("HANDSHAKE, message 2 (<- e, ee): e, then the tag of the empty payload",
                     frame(HANDSHAKE, message2)),
                step("record 0: RECEIPT for item 1", to_client.seal(frame(RECEIPT, json_text(receipt1))),
                     frames=[receipt1]),
                step("record 1: RECEIPT for item 2", to_client.seal(frame(RECEIPT, json_text(receipt2))),
                     frames=[receipt2]),
            ],
        },
        "plain": {
            "clientToServer": [
                step("client preamble, version 2", client_preamble),
                step("ITEM 1 (a json dictionary)", frame(ITEM, json_text(item1)), json=item1),
                step("LAST_CHUNK of item 1", frame(LAST_CHUNK, DICT_TEXT)),
                step("ITEM 2 (a file)", frame(ITEM, json_text(item2)), json=item2),
                step("LAST_CHUNK of item 2", frame(LAST_CHUNK, FILE_TEXT)),
            ],
            "serverToClient": [
                step("server preamble, version 2", server_preamble),
                step("HELLO to a client allowed plaintext", frame(HELLO, json_text(plain_hello_json)),
                     json=plain_hello_json),
                step("RECEIPT for item 1", frame(RECEIPT, json_text(receipt1)), json=receipt1),
                step("RECEIPT for item 2", frame(RECEIPT, json_text(receipt2)), json=receipt2),
                step("ERROR for item 3 (for example)",
                     frame(ERROR, json_text({"code": "DICT_INVALID", "message": "not valid JSON", "id": 3})),
                     json={"code": "DICT_INVALID", "message": "not valid JSON", "id": 3}),
            ],
        },
    }
    json.dump(vectors, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
