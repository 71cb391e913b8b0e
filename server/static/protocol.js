/* How a page follows the broadcast stream: apply, ignore or resync each message, by its seq.
   The one rule every client follows (docs/protocol.md, "Client sequencing"); the display and the
   counter client follow it in panggil_protocol/stream.py, and both are tested against the
   recorded streams in tests/protocol_streams.json (tests/js/). A plain script with one global,
   PanggilProtocol, loaded before each page's own script; under Node it is a CommonJS module.
   The pure part (receive, takeSnapshot, reconnected, resync) never touches the socket; follow()
   wires it to one, emits get_snapshot when a step asks for it, and leaves drawing to the page. */
(function (root) {
  "use strict";

  var APPLY = "apply";    // the next message in order: take it
  var IGNORE = "ignore";  // a duplicate, an old seq, no seq, or no snapshot to place it on yet
  var RESYNC = "resync";  // the page's view is no longer whole: a snapshot must replace it
  // Events after which the protocol asks clients to re-read the whole snapshot.
  var RESYNC_EVENTS = ["day_closed", "hall_changed"];

  // Where a page stands: the last seq taken (null until the first snapshot), and whether a
  // snapshot is due (asked for, or coming with a reconnect): then it is not asked again.
  function position(seq, pending) {
    return Object.freeze({ seq: seq, pending: !!pending });
  }

  var START = position(null, false);

  function step(at, decision, reason, ask) {
    return Object.freeze({ position: at, decision: decision, reason: reason, ask: !!ask });
  }

  // A seq is an integer; true, "41" and 41.5 are not.
  function isSeq(value) {
    return typeof value === "number" && Number.isInteger(value);
  }

  function seqOf(message) {
    return message !== null && typeof message === "object" && !Array.isArray(message) ? message.seq : undefined;
  }

  // A snapshot replaces everything: the page stands at its seq, nothing pending.
  function takeSnapshot(at, snapshot) {
    var seq = seqOf(snapshot);
    if (!isSeq(seq)) return step(at, IGNORE, "no-seq");
    return step(position(seq, false), APPLY, "snapshot");
  }

  // Place one broadcast message (its event name and payload) in the stream.
  function receive(at, name, message) {
    var seq = seqOf(message);
    if (!isSeq(seq)) return step(at, IGNORE, "no-seq");
    if (at.seq === null) return step(at, IGNORE, "no-snapshot");  // the snapshot on its way includes it
    if (seq <= at.seq) return step(at, IGNORE, "duplicate");
    var reason;
    if (seq > at.seq + 1) reason = "gap";
    else if (RESYNC_EVENTS.indexOf(name) >= 0) reason = name;
    else return step(position(seq, at.pending), APPLY, "in-order");
    // The seq is taken either way: a snapshot asked for now is built after this message was sent,
    // so it covers it, and later messages are in order again. Ask only once until it arrives.
    return step(position(seq, true), RESYNC, reason, !at.pending);
  }

  // The socket (re)connected: the server sends a snapshot on every connect, so none is asked.
  function reconnected(at) {
    return step(position(at.seq, true), RESYNC, "reconnect", false);
  }

  // The page itself cannot trust its view (a message it cannot apply): ask once.
  function resync(at, reason) {
    return step(position(at.seq, true), RESYNC, reason, !at.pending);
  }

  /* Follow a Socket.IO socket. handlers.snapshot(snap, step) is called for each usable snapshot,
     handlers.event(name, message, step) for each message decided "apply" or "resync" (a page
     draws what it wants of it; step.reason says why a resync was decided). Returns the follower:
     its position, receive(name, message) (what the socket does with every message), and
     resync(reason) for a page that cannot apply a message. */
  function follow(socket, handlers) {
    var follower = { position: START };
    var connectedBefore = false;

    function settle(result) {
      follower.position = result.position;
      if (result.ask) socket.emit("get_snapshot");
      return result;
    }

    follower.receive = function (name, message) {
      var result = settle(receive(follower.position, name, message));
      if (result.decision !== IGNORE && handlers.event) handlers.event(name, message, result);
      return result;
    };
    follower.resync = function (reason) {
      return settle(resync(follower.position, reason || "page"));
    };

    socket.on("connect", function () {
      if (connectedBefore) settle(reconnected(follower.position));
      connectedBefore = true;
    });
    socket.on("snapshot", function (snap) {
      var result = takeSnapshot(follower.position, snap);
      if (result.decision === IGNORE) return;
      follower.position = result.position;
      if (handlers.snapshot) handlers.snapshot(snap, result);
    });
    socket.onAny(function (name, message) {
      if (name === "events" && message && Array.isArray(message.events)) {
        // One change's events in one frame (/display): each as if it had come alone, in order.
        message.events.forEach(function (one) {
          if (one && typeof one.event === "string" && isSeq(seqOf(one))) follower.receive(one.event, one);
        });
        return;
      }
      // Auxiliary events (announcement_ready) carry no seq: the page listens for them itself.
      if (name !== "snapshot" && isSeq(seqOf(message))) follower.receive(name, message);
    });
    return follower;
  }

  var api = {
    APPLY: APPLY, IGNORE: IGNORE, RESYNC: RESYNC, RESYNC_EVENTS: RESYNC_EVENTS, START: START,
    position: position, isSeq: isSeq, takeSnapshot: takeSnapshot, receive: receive,
    reconnected: reconnected, resync: resync, follow: follow
  };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.PanggilProtocol = api;
})(this);
