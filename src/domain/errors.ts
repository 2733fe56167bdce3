// Typed errors the edges turn into clear answers (HTTP status, Slack field error, CLI line).

export class DomainError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class IllegalTransitionError extends DomainError {
  constructor(readonly entity: string, readonly from: string, readonly to: string) {
    super(`${entity} cannot go from "${from}" to "${to}"`, 'illegal_transition');
  }
}

export class NotFoundError extends DomainError {
  constructor(what: string, id: string) {
    super(`${what} ${id} was not found`, 'not_found');
  }
}

export class ForbiddenError extends DomainError {
  constructor(message: string) {
    super(message, 'forbidden');
  }
}

export class ValidationError extends DomainError {
  constructor(message: string, readonly field?: string) {
    super(message, 'invalid');
  }
}

export class ConflictError extends DomainError {
  constructor(message: string) {
    super(message, 'conflict');
  }
}
