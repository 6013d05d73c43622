import { joinWords } from "./quote";
import { splitWords } from "./shellwords";

export interface Step {
  /** The program and its arguments, as executed (no shell). */
  argv: string[];
  /** The step as the log shows it. */
  display: string;
  /** Seconds before the step is killed. */
  timeoutS: number;
}

export interface Job {
  name: string;
  steps: Step[];
}

interface RawStep {
  run?: unknown;
  timeout_s?: unknown;
}

interface RawJob {
  name?: unknown;
  steps?: unknown;
}

const DEFAULT_TIMEOUT_S = 600;
const NAME = /^[a-z0-9][a-z0-9_.-]*$/;

/** Validate one job of a pipeline file and build the argv of each of its steps. */
export function parseJob(raw: RawJob): Job {
  if (typeof raw.name !== "string" || !NAME.test(raw.name)) {
    throw new Error(`job name must match ${NAME}: ${JSON.stringify(raw.name)}`);
  }
  if (!Array.isArray(raw.steps) || raw.steps.length === 0) {
    throw new Error(`job ${raw.name}: steps must be a non-empty list`);
  }
  const steps = raw.steps.map((s: RawStep, i: number) => parseStep(s, `job ${raw.name} step ${i + 1}`));
  return { name: raw.name, steps };
}

function parseStep(raw: RawStep, where: string): Step {
  if (typeof raw.run !== "string") {
    throw new Error(`${where}: run must be a string`);
  }
  const argv = splitWords(raw.run);
  if (argv.length === 0) {
    throw new Error(`${where}: run has no command`);
  }
  const timeoutS = raw.timeout_s ?? DEFAULT_TIMEOUT_S;
  if (typeof timeoutS !== "number" || !(timeoutS > 0)) {
    throw new Error(`${where}: timeout_s must be a positive number`);
  }
  return { argv, display: joinWords(argv), timeoutS };
}
