/** An `emit` method as `EventEmitter` defines it. */
export type Emit = (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;

/** A prototype whose `emit` can be wrapped. */
export interface EmitterPrototype {
  emit: Emit;
}

/**
 * A prototype's `emit` replaced by a wrapper, and how to put it back.
 *
 * Patching a prototype's `emit` once costs each emitter nothing until it emits, where
 * patching each instance (as the context managers' `bind` does, with eight own methods per
 * emitter and a wrapper per listener) cost more than the span the instance was bound for.
 */
export class EmitPatch {
  private constructor(
    private readonly prototype: EmitterPrototype,
    /** The prototype's own `emit` before patching, or undefined when it was inherited. */
    private readonly own: Emit | undefined,
    private readonly wrapper: Emit,
  ) {}

  static install(prototype: EmitterPrototype, wrap: (original: Emit) => Emit): EmitPatch {
    const own = Object.prototype.hasOwnProperty.call(prototype, 'emit') ? prototype.emit : undefined;
    const wrapper = wrap(prototype.emit);
    prototype.emit = wrapper;
    return new EmitPatch(prototype, own, wrapper);
  }

  /**
   * Puts the original `emit` back. Returns false, and leaves the wrapper in place, when
   * something else wrapped it since: that wrapper cannot be taken out of the chain, so it must
   * keep passing every event through.
   */
  restore(): boolean {
    if (this.prototype.emit !== this.wrapper) return false;
    if (this.own === undefined) delete (this.prototype as { emit?: Emit }).emit;
    else this.prototype.emit = this.own;
    return true;
  }
}
