// cab's reporter for `node --test`: one JSON line per finished test, suite or test file, written to
// cab's report folder by the runner's parent process (never by a test file's own process).
//
// {"type":"case","kind":"test"|"suite","name":"outer > inner","file":"test/x.test.js","outcome":"passed"}
// {"type":"file","file":"test/x.test.js","outcome":"failed","failure":"testCodeFailure"}
// {"type":"end"}   after the last event: the run was not cut short
//
// Test names are the path of names from the file's top level, joined with " > ". Files under the
// working directory are relative to it; others (cab's preloads) stay absolute.
import { isAbsolute, relative } from "node:path";

const SEPARATOR = " > ";

function where(file) {
  if (typeof file !== "string") return null;
  const rel = relative(process.cwd(), file);
  return rel.startsWith("..") || isAbsolute(rel) ? file : rel;
}

function outcome(type, data) {
  if (data.skip !== undefined && data.skip !== false) return "skipped";
  if (data.todo !== undefined && data.todo !== false) return "skipped";
  return type === "test:pass" ? "passed" : "failed";
}

export default async function* cabReporter(source) {
  const stacks = new Map(); // file -> names of the open tests, by nesting level
  for await (const event of source) {
    const data = event.data ?? {};
    const file = where(data.file);
    const isFile = typeof data.file === "string" && data.name === data.file && data.nesting === 0;
    if (event.type === "test:start" && !isFile) {
      const stack = stacks.get(file) ?? [];
      stack.length = data.nesting;
      stack.push(String(data.name));
      stacks.set(file, stack);
    } else if (event.type === "test:complete" && isFile) {
      const error = data.details?.error;
      yield JSON.stringify({
        type: "file",
        file,
        outcome: error ? "failed" : "passed",
        failure: error ? String(error.failureType ?? error.code ?? "error") : null,
      }) + "\n";
    } else if ((event.type === "test:pass" || event.type === "test:fail") && !isFile) {
      const stack = stacks.get(file) ?? [];
      const path = stack.slice(0, data.nesting);
      path.push(String(data.name));
      yield JSON.stringify({
        type: "case",
        kind: data.details?.type === "suite" ? "suite" : "test",
        name: path.join(SEPARATOR),
        file,
        outcome: outcome(event.type, data),
      }) + "\n";
    }
  }
  yield JSON.stringify({ type: "end" }) + "\n";
}
