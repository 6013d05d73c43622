export { parseJob, type Job, type Step } from "./job";
export { joinWords, quoteWord } from "./quote";
export { ShellSyntaxError, splitWords } from "./shellwords";
