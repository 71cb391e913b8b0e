/* Where a number stands in a `queue_moved` summary's compacted queue (docs/protocol.md, "/visitor"):
   items are numbers ("A012") or inclusive runs of consecutive numbers of the same prefix and width
   ("A201..A999"), in call order. `ahead` mirrors server/queue_moved.py `ahead`: it walks the items
   without expanding them and returns the people ahead, or null when the number is not waiting.
   Both are tested on the same table (tests/queue_places.json, tests/js/). A plain script with one
   global, PanggilQueue, loaded before visitor.js; under Node it is a CommonJS module. */
(function (root) {
  "use strict";

  var NUMBER = /^([A-Za-z]*)([0-9]+)$/;
  var RANGE = "..";

  // {prefix, value, width} of a number, or null for anything else (compared as it is).
  function parts(number) {
    var match = NUMBER.exec(number);
    return match ? { prefix: match[1], value: parseInt(match[2], 10), width: match[2].length } : null;
  }

  // {prefix, first, last, width} of a range item, or null for a single number.
  function bounds(item) {
    var at = item.indexOf(RANGE);
    if (at < 0) return null;
    var start = parts(item.slice(0, at));
    var end = parts(item.slice(at + RANGE.length));
    if (!start || !end || start.prefix !== end.prefix || start.width !== end.width) return null;
    if (end.value < start.value) return null;
    return { prefix: start.prefix, first: start.value, last: end.value, width: start.width };
  }

  function ahead(items, number) {
    var mine = parts(number);
    var count = 0;
    for (var i = 0; i < items.length; i++) {
      var range = bounds(items[i]);
      if (!range) {
        if (items[i] === number) return count;
        count += 1;
        continue;
      }
      if (mine && mine.prefix === range.prefix && mine.width === range.width &&
          mine.value >= range.first && mine.value <= range.last) {
        return count + mine.value - range.first;
      }
      count += range.last - range.first + 1;
    }
    return null;
  }

  var api = { ahead: ahead };
  if (typeof module !== "undefined" && module.exports) module.exports = api;
  else root.PanggilQueue = api;
})(this);
