import { addBusinessDays, addDays, isAfter, isValid, parseISO, setHours, startOfDay } from "date-fns";

import { type BusinessCalendar, formatDay, parseDay } from "./calendar";
import { CUTOFF_HOUR, type Priority, RESPONSE_DAYS } from "./policy";

/** Parse an office wall-clock time, `YYYY-MM-DDTHH:mm`. */
function parseOpened(openedAt: string): Date {
  const opened = parseISO(openedAt);
  if (!isValid(opened) || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(openedAt)) {
    throw new Error(`not an office time (YYYY-MM-DDTHH:mm): ${JSON.stringify(openedAt)}`);
  }
  return opened;
}

/** The due date (`YYYY-MM-DD`) of a ticket opened at `openedAt` with `priority`. */
export function dueDate(openedAt: string, priority: Priority, calendar: BusinessCalendar): string {
  const opened = parseOpened(openedAt);
  let start = startOfDay(opened);
  if (opened.getHours() >= CUTOFF_HOUR) {
    start = addDays(start, 1);
  }
  let due = addBusinessDays(start, RESPONSE_DAYS[priority]);
  // The office is closed on holidays: push the deadline back one day for each of them.
  due = addDays(due, calendar.holidaysBetween(start, due).length);
  return formatDay(due);
}

/** Whether a ticket still unanswered at `now` has breached its SLA (after 17:00 on its due date). */
export function isBreached(
  openedAt: string,
  priority: Priority,
  now: string,
  calendar: BusinessCalendar,
): boolean {
  const deadline = setHours(parseDay(dueDate(openedAt, priority, calendar)), CUTOFF_HOUR);
  return isAfter(parseOpened(now), deadline);
}
