// server/static/queue_places.js against the table that server/queue_moved.py is tested on
// (tests/queue_places.json): the phone counts the same people ahead as the server. Run by
// tests/test_protocol_streams.py (node --test on each file).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const Q = require("../../server/static/queue_places.js");

const TABLE = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "queue_places.json"), "utf8"));

for (const c of TABLE.cases) {
  test(c.name, () => {
    assert.deepEqual(c.numbers.map((n) => Q.ahead(c.items, n)), c.numbers.map((_, i) => i));
    assert.deepEqual(c.absent.map((n) => Q.ahead(c.items, n)), c.absent.map(() => null));
  });
}

test("a range counts its length without expanding it", () => {
  assert.equal(Q.ahead(["A1201", "A201..A999", "A1000..A1200"], "A1100"), 1 + 799 + 100);
  assert.equal(Q.ahead(["A201..A999"], "A0500"), null);  // another width: another number
  assert.equal(Q.ahead(["A201..A999"], "B500"), null);
});
