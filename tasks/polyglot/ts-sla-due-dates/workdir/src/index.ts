export { BusinessCalendar } from "./calendar";
export { COMPANY_HOLIDAYS } from "./holidays";
export { CUTOFF_HOUR, RESPONSE_DAYS, type Priority } from "./policy";
export { dueDate, isBreached } from "./sla";
