// Scoring tests for SLA due dates; copied into the work dir only when grading.
import { test } from "node:test";
import assert from "node:assert/strict";

import { BusinessCalendar, parseDay } from "../src/calendar";
import { COMPANY_HOLIDAYS } from "../src/holidays";
import { dueDate, isBreached } from "../src/sla";

const calendar = new BusinessCalendar(COMPANY_HOLIDAYS);

test("a deadline never lands on a weekend after a holiday (Easter)", () => {
  // Thu before Good Friday: Fri 29 and Mon 1 are holidays.
  assert.equal(dueDate("2024-03-28T10:00", "P1", calendar), "2024-04-02");
  assert.equal(dueDate("2024-03-28T10:00", "P2", calendar), "2024-04-03");
  assert.equal(dueDate("2024-03-27T12:00", "P2", calendar), "2024-04-02");
});

test("consecutive holidays (Christmas) are all skipped", () => {
  assert.equal(dueDate("2024-12-20T10:00", "P3", calendar), "2024-12-31");
  assert.equal(dueDate("2024-12-24T10:00", "P1", calendar), "2024-12-27");
  assert.equal(dueDate("2024-12-31T10:00", "P1", calendar), "2025-01-02");
});

test("tickets opened on a weekend are received on Monday", () => {
  assert.equal(dueDate("2024-06-08T11:00", "P1", calendar), "2024-06-11");
  assert.equal(dueDate("2024-06-09T23:59", "P2", calendar), "2024-06-12");
});

test("tickets opened on a holiday are received on the next business day", () => {
  assert.equal(dueDate("2024-05-27T10:00", "P1", calendar), "2024-05-29");
  assert.equal(dueDate("2024-03-29T09:30", "P1", calendar), "2024-04-03");
});

test("after the cutoff on Friday, counting starts on the next business day", () => {
  assert.equal(dueDate("2024-06-07T17:00", "P1", calendar), "2024-06-11");
  assert.equal(dueDate("2024-05-24T18:30", "P1", calendar), "2024-05-29");
  assert.equal(dueDate("2024-03-28T17:45", "P1", calendar), "2024-04-03");
});

test("a holiday on a weekend changes nothing", () => {
  const withSaturday = new BusinessCalendar([...COMPANY_HOLIDAYS, "2024-06-15"]);
  assert.equal(dueDate("2024-06-13T10:00", "P2", withSaturday), "2024-06-17");
  assert.equal(dueDate("2024-06-12T10:00", "P3", withSaturday), "2024-06-19");
});

test("due dates are always business days", () => {
  const priorities = ["P1", "P2", "P3"] as const;
  for (let day = 1; day <= 31; day++) {
    for (const hour of ["08:00", "16:59", "17:00", "22:00"]) {
      const opened = `2024-12-${String(day).padStart(2, "0")}T${hour}`;
      for (const p of priorities) {
        const due = dueDate(opened, p, calendar);
        assert.ok(calendar.isBusinessDay(parseDay(due)), `${opened} ${p} -> ${due}`);
      }
    }
  }
});

test("breach uses the corrected due date", () => {
  assert.equal(isBreached("2024-03-28T10:00", "P1", "2024-04-01T18:00", calendar), false);
  assert.equal(isBreached("2024-03-28T10:00", "P1", "2024-04-02T17:30", calendar), true);
});
