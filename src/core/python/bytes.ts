/**
 * Python's `bytearray`: a `Uint8Array` subclass. A plain `Uint8Array` (or a Node `Buffer`) is
 * Python `bytes`; an instance of `ByteArray` is a `bytearray`.
 */
export class ByteArray extends Uint8Array {
  /** A `ByteArray` holding a copy of `bytes`. */
  static copyOf(bytes: Uint8Array): ByteArray {
    const b = new ByteArray(bytes.length);
    b.set(bytes);
    return b;
  }
}

/**
 * Python's `pickle.PickleBuffer`: a view of memory that protocol 5 can send out-of-band.
 * Loading NEXT_BUFFER gives one of these over the caller's memory, without copying.
 */
export class PickleBuffer {
  /** The bytes, a view of the memory given (not a copy). */
  readonly data: Uint8Array;
  /** Whether Python would see the buffer as read-only (`READONLY_BUFFER`, or `bytes`). */
  readonly readonly: boolean;

  constructor(data: ArrayBufferView | ArrayBuffer, readonly = false) {
    this.data =
      data instanceof Uint8Array
        ? data
        : ArrayBuffer.isView(data)
          ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
          : new Uint8Array(data);
    this.readonly = readonly;
  }

  /** The same memory, marked read-only. */
  toReadonly(): PickleBuffer {
    return this.readonly ? this : new PickleBuffer(this.data, true);
  }
}
