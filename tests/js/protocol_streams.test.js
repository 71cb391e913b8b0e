// server/static/protocol.js against the recorded streams that panggil_protocol/stream.py follows
// too (tests/protocol_streams.json). Run by tests/test_protocol_streams.py (node --test on each file).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const P = require("../../server/static/protocol.js");

const STREAMS = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "protocol_streams.json"), "utf8"));

function messageOf(step) {
  return "payload" in step ? step.payload : { event: step.event, seq: step.seq };
}

function play(at, step) {
  if (step.event === "snapshot") return P.takeSnapshot(at, messageOf(step));
  if (step.event === "reconnect") return P.reconnected(at);
  if (step.event === "resync") return P.resync(at, step.reason);
  return P.receive(at, step.event, messageOf(step));
}

for (const c of STREAMS.cases) {
  test(c.name, () => {
    let at = P.START;
    c.steps.forEach((expected, index) => {
      const before = at;
      const result = play(at, expected);
      const got = { decision: result.decision, reason: result.reason, ask: result.ask,
        at: result.position.seq, pending: result.position.pending };
      const want = {};
      for (const key of Object.keys(got)) want[key] = expected[key];
      assert.deepEqual(got, want, `step ${index}: ${JSON.stringify(expected)}`);
      if (result.decision === P.IGNORE) assert.equal(result.position, before);
      at = result.position;
    });
  });
}

// A stand-in for a Socket.IO client: records emits, delivers what the test sends.
function fakeSocket() {
  const handlers = {};
  let any = null;
  return {
    emitted: [],
    on(name, fn) { handlers[name] = fn; },
    onAny(fn) { any = fn; },
    emit(name) { this.emitted.push(name); },
    deliver(name, message) {
      if (handlers[name]) handlers[name](message);
      if (any) any(name, message);
    },
  };
}

test("follow() asks once per resync and hands the page what to draw", () => {
  const socket = fakeSocket();
  const seen = [];
  const follower = P.follow(socket, {
    snapshot: (snap) => seen.push(["snapshot", snap.seq]),
    event: (name, message, step) => seen.push([name, message.seq, step.decision]),
  });
  socket.deliver("connect");
  socket.deliver("snapshot", { seq: 10 });
  socket.deliver("ticket_issued", { seq: 10 });           // duplicate: not handed on
  socket.deliver("ticket_issued", { seq: 11 });
  socket.deliver("announcement_ready", { call_id: "x" });  // no seq: the page's own listener
  socket.deliver("ticket_called", { seq: 14 });           // gap: asks
  socket.deliver("day_closed", { seq: 15 });              // pending: does not ask again
  assert.deepEqual(socket.emitted, ["get_snapshot"]);
  socket.deliver("snapshot", { seq: 15 });
  follower.resync("unreadable");
  follower.resync("unreadable");
  assert.deepEqual(socket.emitted, ["get_snapshot", "get_snapshot"]);
  socket.deliver("connect");                              // a reconnect: the server sends one
  assert.equal(socket.emitted.length, 2);
  assert.deepEqual(follower.position, { seq: 15, pending: true });
  assert.deepEqual(seen, [["snapshot", 10], ["ticket_issued", 11, "apply"],
    ["ticket_called", 14, "resync"], ["day_closed", 15, "resync"], ["snapshot", 15]]);
});

test("follow() applies an `events` frame as its events, one by one and in order", () => {
  const socket = fakeSocket();
  const seen = [];
  P.follow(socket, {
    snapshot: () => {},
    event: (name, message, step) => seen.push([name, message.seq, step.decision]),
  });
  socket.deliver("snapshot", { seq: 4 });
  socket.deliver("events", { events: [
    { event: "ticket_finished", seq: 5 },
    { event: "ticket_called", seq: 6 },
    "not a message",
    { seq: 7 },
  ] });
  socket.deliver("ticket_issued", { event: "ticket_issued", seq: 7 });
  assert.deepEqual(seen, [
    ["ticket_finished", 5, P.APPLY], ["ticket_called", 6, P.APPLY], ["ticket_issued", 7, P.APPLY],
  ]);
  assert.deepEqual(socket.emitted, []);  // no gap, so no snapshot asked
});
