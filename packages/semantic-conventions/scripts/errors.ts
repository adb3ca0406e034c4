/** Errors raised while reading, validating or generating the registry. */

/** Base class of every error this package's tooling throws. */
export class SemanticConventionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** One problem found in the model: the file, the group or attribute id, and what is wrong. */
export interface ModelProblem {
  readonly file: string;
  readonly id: string;
  readonly message: string;
}

/** The model is invalid; `problems` lists every problem found, in file order. */
export class ModelValidationError extends SemanticConventionsError {
  readonly problems: readonly ModelProblem[];

  constructor(problems: readonly ModelProblem[]) {
    super(
      `The semantic conventions model has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n` +
        problems.map((p) => `  ${p.file}: ${p.id}: ${p.message}`).join('\n'),
    );
    this.problems = problems;
  }
}
