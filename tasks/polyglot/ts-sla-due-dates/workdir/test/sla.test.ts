import { test } from "node:test";
import assert from "node:assert/strict";

import { BusinessCalendar } from "../src/calendar";
import { COMPANY_HOLIDAYS } from "../src/holidays";
import { dueDate, isBreached } from "../src/sla";

const calendar = new BusinessCalendar(COMPANY_HOLIDAYS);

test("ordinary weekday tickets", () => {
  assert.equal(dueDate("2024-05-21T10:15", "P2", calendar), "2024-05-23"); // Tue -> Thu
  assert.equal(dueDate("2024-05-20T16:59", "P1", calendar), "2024-05-21"); // Mon -> Tue
  assert.equal(dueDate("2024-05-14T09:00", "P3", calendar), "2024-05-21"); // Tue -> Tue
});

test("tickets after the cutoff count from the next day", () => {
  assert.equal(dueDate("2024-05-22T17:30", "P1", calendar), "2024-05-24"); // Wed eve -> Fri
  assert.equal(dueDate("2024-05-22T17:00", "P2", calendar), "2024-05-28"); // Wed eve -> Tue (Mon is a holiday)
});

test("deadlines roll over the weekend", () => {
  assert.equal(dueDate("2024-06-07T10:00", "P1", calendar), "2024-06-10"); // Fri -> Mon
  assert.equal(dueDate("2024-06-06T11:00", "P3", calendar), "2024-06-13"); // Thu -> Thu
});

test("a holiday inside the window adds a day", () => {
  assert.equal(dueDate("2024-05-23T10:00", "P3", calendar), "2024-05-31");
});

test("breach is after 17:00 on the due date", () => {
  assert.equal(isBreached("2024-05-21T10:15", "P2", "2024-05-23T16:59", calendar), false);
  assert.equal(isBreached("2024-05-21T10:15", "P2", "2024-05-23T17:01", calendar), true);
});

test("bad input is rejected", () => {
  assert.throws(() => dueDate("2024-05-21", "P1", calendar), /office time/);
  assert.throws(() => dueDate("yesterday", "P1", calendar), /office time/);
});
