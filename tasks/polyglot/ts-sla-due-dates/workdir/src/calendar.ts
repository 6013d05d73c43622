import { format, isValid, isWeekend, parse } from "date-fns";

const DAY_FORMAT = "yyyy-MM-dd";

/** Parse a calendar date written `YYYY-MM-DD` (local midnight); throws on anything else. */
export function parseDay(text: string): Date {
  const day = parse(text, DAY_FORMAT, new Date(2000, 0, 1));
  if (!isValid(day) || format(day, DAY_FORMAT) !== text) {
    throw new Error(`not a date (YYYY-MM-DD): ${JSON.stringify(text)}`);
  }
  return day;
}

export function formatDay(day: Date): string {
  return format(day, DAY_FORMAT);
}

/** Working days of the support team: Monday to Friday, minus company holidays. */
export class BusinessCalendar {
  private readonly holidays: ReadonlySet<string>;

  constructor(holidays: Iterable<string>) {
    this.holidays = new Set([...holidays].map((h) => formatDay(parseDay(h))));
  }

  isHoliday(day: Date): boolean {
    return this.holidays.has(formatDay(day));
  }

  isBusinessDay(day: Date): boolean {
    return !isWeekend(day) && !this.isHoliday(day);
  }

  /** The holidays after `from` and up to `to` (both local dates), in order. */
  holidaysBetween(from: Date, to: Date): string[] {
    const lo = formatDay(from);
    const hi = formatDay(to);
    return [...this.holidays].filter((h) => h > lo && h <= hi).sort();
  }
}
