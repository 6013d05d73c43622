import { test } from "node:test";
import assert from "node:assert/strict";

import { BusinessCalendar, parseDay } from "../src/calendar";
import { COMPANY_HOLIDAYS } from "../src/holidays";

const calendar = new BusinessCalendar(COMPANY_HOLIDAYS);

test("weekdays are business days, weekends and holidays are not", () => {
  assert.equal(calendar.isBusinessDay(parseDay("2024-05-21")), true); // Tuesday
  assert.equal(calendar.isBusinessDay(parseDay("2024-05-25")), false); // Saturday
  assert.equal(calendar.isBusinessDay(parseDay("2024-05-26")), false); // Sunday
  assert.equal(calendar.isBusinessDay(parseDay("2024-05-27")), false); // Spring bank holiday
});

test("holidays between two dates", () => {
  assert.deepEqual(calendar.holidaysBetween(parseDay("2024-03-28"), parseDay("2024-04-05")), [
    "2024-03-29",
    "2024-04-01",
  ]);
  assert.deepEqual(calendar.holidaysBetween(parseDay("2024-03-29"), parseDay("2024-03-29")), []);
});

test("dates are validated", () => {
  assert.throws(() => parseDay("2024-02-30"), /not a date/);
  assert.throws(() => parseDay("24-2-3"), /not a date/);
  assert.throws(() => new BusinessCalendar(["2024-13-01"]), /not a date/);
});
