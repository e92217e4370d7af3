/**
 * `numpy.dtype` as a JS value. A pickle writes a dtype as `numpy.dtype(typestr, False, True)`
 * followed by BUILD with numpy's state tuple `(version, byteorder, subarray, names, fields,
 * elsize, alignment, flags[, metadata])`; `DType` holds what that state says, so that loading
 * then dumping writes it back, and computes the same state for dtypes made in JS.
 */
import { reprSymbol } from '../index.js';

/** `'<'` little-endian, `'>'` big-endian, `'|'` not applicable (one byte, strings, records). */
export type ByteOrder = '<' | '>' | '|';

/** The byte order of this machine's typed arrays (little-endian nearly everywhere). */
export const NATIVE_ORDER: '<' | '>' =
  new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? '<' : '>';

/** One field of a structured (record) dtype. */
export interface DTypeField {
  readonly name: string;
  readonly dtype: DType;
  /** Byte offset of the field inside a record. */
  readonly offset: number;
  /** numpy's field title (any Python value, usually a string), if the field has one. */
  readonly title?: unknown;
}

/** A field as `DType.structured` accepts it: `[name, dtype, shape?]` or an object. */
export type FieldSpec =
  | readonly [name: string, dtype: string | DType, shape?: readonly number[]]
  | {
      readonly name: string;
      readonly dtype: string | DType;
      readonly shape?: readonly number[];
      readonly offset?: number;
      readonly title?: unknown;
    };

/** Units of `datetime64`/`timedelta64`, as numpy names them. */
export const DATETIME_UNITS = [
  'Y',
  'M',
  'W',
  'D',
  'h',
  'm',
  's',
  'ms',
  'us',
  'ns',
  'ps',
  'fs',
  'as',
  'generic',
] as const;
export type DatetimeUnit = (typeof DATETIME_UNITS)[number];

// numpy's descriptor flags (ndarraytypes.h).
const ITEM_REFCOUNT = 0x01;
const LIST_PICKLE = 0x02;
const OBJECT_FLAGS = 0x3f; // NPY_OBJECT_DTYPE_FLAGS
const NEEDS_INIT = 0x08;
const NEEDS_PYAPI = 0x10;
const FROM_FIELDS = 0x1b; // NEEDS_INIT | LIST_PICKLE | ITEM_REFCOUNT | NEEDS_PYAPI
const ALIGNED_STRUCT = 0x80;

const NAMES: Record<string, string> = {
  bool: '|b1',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
  complex64: '<c8',
  complex128: '<c16',
  object: '|O',
  int: '<i8',
  float: '<f8',
  complex: '<c16',
  // numpy's one-letter type codes (as on 64-bit Linux, where pickles are usually made).
  '?': '|b1',
  b: '|i1',
  B: '|u1',
  h: '<i2',
  H: '<u2',
  i: '<i4',
  I: '<u4',
  l: '<i8',
  L: '<u8',
  q: '<i8',
  Q: '<u8',
  e: '<f2',
  f: '<f4',
  d: '<f8',
  g: '<f16',
  F: '<c8',
  D: '<c16',
  G: '<c32',
};

const NUMERIC_SIZES: Record<string, readonly number[]> = {
  b: [1],
  i: [1, 2, 4, 8],
  u: [1, 2, 4, 8],
  f: [2, 4, 8, 10, 12, 16],
  c: [8, 16, 20, 24, 32],
  M: [8],
  m: [8],
  O: [4, 8],
};

const inspect = Symbol.for('nodejs.util.inspect.custom');

const TYPESTR = /^([<>|=]?)([biufcMmSaUVO])(\d*)(?:\[(\d*)([A-Za-z]+)\])?$/;

/** Whether values of this kind and size have a byte order. */
function swappable(kind: string, itemsize: number): boolean {
  if (kind === 'U' || kind === 'M' || kind === 'm') return true;
  return (kind === 'i' || kind === 'u' || kind === 'f' || kind === 'c') && itemsize > 1;
}

/** Mutable during construction and BUILD only; frozen in meaning once loaded. */
interface DTypeParts {
  kind: string;
  itemsize: number;
  byteorder: ByteOrder;
  unit: DatetimeUnit | undefined;
  unitCount: number;
  subarray: { base: DType; shape: readonly number[] } | undefined;
  fields: readonly DTypeField[] | undefined;
  alignment: number;
  flags: number;
  metadata: unknown;
}

/**
 * A numpy dtype: kind, size, byte order, and for structured dtypes the fields. `str` is numpy's
 * `dtype.str` (`'<f8'`, `'|b1'`, `'<U3'`, `'<M8[ms]'`, `'|V12'` for a record).
 *
 * @example
 * ```ts
 * DType.of('float32').str;                                   // '<f4'
 * DType.of('>i2').itemsize;                                  // 2
 * DType.structured([['x', '<f8'], ['tag', 'S4']]).itemsize;  // 12
 * ```
 */
export class DType {
  /** numpy's kind letter: `b i u f c M m S U V O`. */
  readonly kind!: string;
  /** Bytes per element (a `'U'` dtype holds 4 bytes per character). */
  readonly itemsize!: number;
  readonly byteorder!: ByteOrder;
  /** For `datetime64` (`'M'`) and `timedelta64` (`'m'`): the unit and its multiplier. */
  readonly unit!: DatetimeUnit | undefined;
  readonly unitCount!: number;
  /** A sub-array dtype (only as a field's dtype): the element dtype and the shape. */
  readonly subarray!: { readonly base: DType; readonly shape: readonly number[] } | undefined;
  /** The fields of a structured dtype, in order; `undefined` for any other dtype. */
  readonly fields!: readonly DTypeField[] | undefined;
  /** numpy's `alignment` as the pickle states it. */
  readonly alignment!: number;
  /** numpy's descriptor flags (object references, alignment of records, ...). */
  readonly flags!: number;
  /** numpy's `dtype.metadata` (a dict), or `undefined`. */
  readonly metadata!: unknown;

  private constructor(parts: DTypeParts) {
    Object.assign(this, parts);
  }

  /**
   * A dtype from numpy's spelling: a type string (`'<f8'`, `'i4'`, `'S5'`, `'<U3'`,
   * `'M8[ms]'`, `'O'`) or a name (`'float64'`, `'int32'`, `'bool'`, `'complex64'`,
   * `'object'`). The byte order defaults to little-endian where it applies.
   */
  static of(spec: string | DType): DType {
    if (spec instanceof DType) return spec;
    const parsed = parseTypestr(Object.hasOwn(NAMES, spec) ? NAMES[spec]! : spec);
    if (parsed === undefined)
      throw new TypeError(`data type ${JSON.stringify(spec)} not understood`);
    return parsed;
  }

  /**
   * A structured (record) dtype, as `numpy.dtype([(name, dtype, shape), ...], align=...)`.
   * Fields are packed in order unless they give an `offset`; with `align`, each field is placed
   * at its natural alignment, as a C struct is.
   */
  static structured(
    fields: readonly FieldSpec[],
    options: { align?: boolean; itemsize?: number } = {},
  ): DType {
    const align = options.align ?? false;
    const out: DTypeField[] = [];
    const seen = new Set<string>();
    let end = 0;
    let maxAlign = 1;
    let flags = 0;
    for (const f of fields) {
      const spec = Array.isArray(f)
        ? {
            name: f[0] as string,
            dtype: f[1] as string | DType,
            shape: f[2] as number[] | undefined,
          }
        : (f as Exclude<FieldSpec, readonly unknown[]>);
      if (seen.has(spec.name))
        throw new TypeError(`field name ${JSON.stringify(spec.name)} repeated`);
      seen.add(spec.name);
      let dtype = DType.of(spec.dtype);
      if (spec.shape !== undefined && spec.shape.length > 0)
        dtype = DType.subarrayOf(dtype, spec.shape);
      let offset = 'offset' in spec && spec.offset !== undefined ? spec.offset : end;
      if (align && !('offset' in spec && spec.offset !== undefined)) {
        offset = alignUp(offset, dtype.alignment);
      }
      maxAlign = Math.max(maxAlign, dtype.alignment);
      end = Math.max(end, offset + dtype.itemsize);
      flags |= dtype.flags & FROM_FIELDS;
      const title = 'title' in spec ? spec.title : undefined;
      out.push(
        title === undefined
          ? { name: spec.name, dtype, offset }
          : { name: spec.name, dtype, offset, title },
      );
    }
    let itemsize = align ? alignUp(end, maxAlign) : end;
    if (options.itemsize !== undefined) {
      if (options.itemsize < end)
        throw new RangeError(`itemsize ${options.itemsize} is smaller than the fields (${end})`);
      itemsize = options.itemsize;
    }
    return new DType({
      kind: 'V',
      itemsize,
      byteorder: '|',
      unit: undefined,
      unitCount: 1,
      subarray: undefined,
      fields: out,
      alignment: align ? maxAlign : 1,
      flags: flags | NEEDS_PYAPI | (align ? ALIGNED_STRUCT : 0),
      metadata: undefined,
    });
  }

  /** The dtype of a fixed-shape sub-array field, as numpy's `(base, shape)`. */
  static subarrayOf(base: string | DType, shape: readonly number[]): DType {
    const b = DType.of(base);
    const count = shape.reduce((a, n) => a * n, 1);
    return new DType({
      kind: 'V',
      itemsize: b.itemsize * count,
      byteorder: '|',
      unit: undefined,
      unitCount: 1,
      subarray: { base: b, shape: [...shape] },
      fields: undefined,
      alignment: b.alignment,
      flags: b.flags & FROM_FIELDS,
      metadata: undefined,
    });
  }

  /**
   * The dtype `numpy.dtype(typestr, align, copy)` gives before BUILD sets its state (what a
   * pickle's REDUCE makes). `undefined` if numpy would not understand `typestr`.
   * @internal
   */
  static fromPickleTypestr(typestr: string): DType | undefined {
    return parseTypestr(typestr);
  }

  /** numpy's `dtype.str`. */
  get str(): string {
    if (this.kind === 'M' || this.kind === 'm') {
      const unit =
        this.unit === undefined || this.unit === 'generic'
          ? ''
          : `[${this.unitCount === 1 ? '' : this.unitCount}${this.unit}]`;
      return `${this.byteorder}${this.kind}8${unit}`;
    }
    if (this.kind === 'O') return '|O';
    const n = this.kind === 'U' ? this.itemsize / 4 : this.itemsize;
    return `${this.byteorder}${this.kind}${n}`;
  }

  /** Field names of a structured dtype (numpy's `dtype.names`). */
  get names(): readonly string[] | undefined {
    return this.fields?.map((f) => f.name);
  }

  /**
   * Whether elements hold Python objects (an `'O'` dtype, or a record with such a field): such
   * arrays pickle their elements as a list, and hold them in a JS array.
   */
  get hasObject(): boolean {
    if (this.kind === 'O' || (this.flags & (ITEM_REFCOUNT | LIST_PICKLE)) !== 0) return true;
    if (this.subarray !== undefined) return this.subarray.base.hasObject;
    return this.fields?.some((f) => f.dtype.hasObject) ?? false;
  }

  /** Whether the byte order differs from this machine's (data must be swapped). */
  get isSwapped(): boolean {
    return this.byteorder !== '|' && this.byteorder !== NATIVE_ORDER;
  }

  /** The type string `numpy.dtype(...)` is called with in a pickle: `'f8'`, `'U3'`, `'V12'`. */
  get pickleTypestr(): string {
    if (this.kind === 'M' || this.kind === 'm') return `${this.kind}8`;
    return `${this.kind}${this.kind === 'U' ? this.itemsize / 4 : this.itemsize}`;
  }

  /**
   * Whether this is one of numpy's built-in dtype singletons (native byte order, no metadata):
   * numpy pickles every array of such a dtype with the same dtype object.
   */
  get isBuiltin(): boolean {
    if (this.metadata !== undefined || this.fields !== undefined || this.subarray !== undefined)
      return false;
    if (this.kind === 'O') return true;
    if (!'biufc'.includes(this.kind)) return false;
    return this.byteorder === '|' || this.byteorder === NATIVE_ORDER;
  }

  /**
   * The same dtype in another byte order (numpy's `newbyteorder`); itself when the order does
   * not apply (`'|'`) or is already `order`.
   */
  withByteOrder(order: '<' | '>'): DType {
    if (this.byteorder === '|' || this.byteorder === order) return this;
    const parts = { ...(this as unknown as DTypeParts), byteorder: order };
    return new (DType as unknown as new (p: DTypeParts) => DType)(parts);
  }

  /** Whether two dtypes describe the same data (as numpy's `==`). */
  equals(other: DType): boolean {
    if (this === other) return true;
    if (this.str !== other.str) return false;
    if (!!this.subarray !== !!other.subarray) return false;
    if (this.subarray && other.subarray) {
      if (!this.subarray.base.equals(other.subarray.base)) return false;
      if (this.subarray.shape.join() !== other.subarray.shape.join()) return false;
    }
    const a = this.fields;
    const b = other.fields;
    if (!a || !b) return a === b;
    return (
      a.length === b.length &&
      a.every((f, i) => {
        const g = b[i]!;
        return f.name === g.name && f.offset === g.offset && f.dtype.equals(g.dtype);
      })
    );
  }

  toString(): string {
    return this.str;
  }

  [inspect](): string {
    return `DType<${this.str}>${this.fields ? ` ${this.describe()}` : ''}`;
  }

  /** numpy's repr: `dtype('float64')`, `dtype('<U3')`, `dtype([('x', '<f8'), ('n', '<i4')])`. */
  [reprSymbol](): string {
    return `dtype(${this.describe()})`;
  }

  private describe(): string {
    if (this.fields) {
      const parts = this.fields.map((f) => {
        const sub = f.dtype.subarray;
        const name = f.title === undefined ? `'${f.name}'` : `(${String(f.title)!}, '${f.name}')`;
        if (sub)
          return `(${name}, ${sub.base.describe()}, (${sub.shape.join(', ')}${sub.shape.length === 1 ? ',' : ''}))`;
        return `(${name}, ${f.dtype.describe()})`;
      });
      return `[${parts.join(', ')}]`;
    }
    if (this.isBuiltin) {
      const name = Object.keys(NAMES).find(
        (k) => NAMES[k] === this.str && k.length > 1 && !/^(int|float|complex)$/.test(k),
      );
      if (name !== undefined) return `'${name === 'object' ? 'O' : name}'`;
    }
    return `'${this.str.replace(/^\|/, '')}'`;
  }

  // --- pickle state -------------------------------------------------------------------------

  /** numpy's `__setstate__`: the BUILD state of a dtype. @internal */
  setState(state: DTypeState): void {
    const parts = this as unknown as DTypeParts;
    parts.byteorder = state.byteorder;
    if (state.subarray) parts.subarray = state.subarray;
    if (state.fields) parts.fields = state.fields;
    if (state.elsize >= 0 && (this.kind === 'V' || this.kind === 'S' || this.kind === 'U'))
      parts.itemsize = state.elsize;
    if (state.alignment >= 0) parts.alignment = state.alignment;
    parts.flags = state.flags ?? this.defaultFlags();
    if (state.unit) {
      parts.unit = state.unit.unit;
      parts.unitCount = state.unit.count;
    }
    parts.metadata = state.metadata;
  }

  private defaultFlags(): number {
    if (this.kind === 'O') return OBJECT_FLAGS;
    if (this.kind === 'U') return NEEDS_INIT;
    return this.flags;
  }
}

/** A dtype's BUILD state, parsed. @internal */
export interface DTypeState {
  byteorder: ByteOrder;
  subarray?: { base: DType; shape: readonly number[] };
  fields?: readonly DTypeField[];
  elsize: number;
  alignment: number;
  flags?: number;
  unit?: { unit: DatetimeUnit; count: number };
  metadata?: unknown;
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function isUnit(u: string): u is DatetimeUnit {
  return (DATETIME_UNITS as readonly string[]).includes(u);
}

function parseTypestr(spec: string): DType | undefined {
  const m = TYPESTR.exec(spec);
  if (!m) return undefined;
  const [, order = '', rawKind = '', digits = '', count = '', unitText] = m;
  const kind = rawKind === 'a' ? 'S' : rawKind;
  const flexible = kind === 'S' || kind === 'U' || kind === 'V';
  let itemsize: number;
  if (digits === '') {
    if (flexible) itemsize = 0;
    else if (kind === 'O' || kind === 'M' || kind === 'm') itemsize = 8;
    else if (kind === 'b') itemsize = 1;
    else return undefined;
  } else {
    itemsize = Number(digits);
    if (kind === 'U') itemsize *= 4;
    if (!Number.isSafeInteger(itemsize)) return undefined;
  }
  if (!flexible && !NUMERIC_SIZES[kind]!.includes(itemsize)) return undefined;
  if (kind === 'O') itemsize = 8;
  let unit: DatetimeUnit | undefined;
  let unitCount = 1;
  if (unitText !== undefined) {
    if ((kind !== 'M' && kind !== 'm') || !isUnit(unitText)) return undefined;
    unit = unitText;
    unitCount = count === '' ? 1 : Number(count);
  } else if (kind === 'M' || kind === 'm') {
    unit = 'generic';
  }
  const byteorder: ByteOrder = swappable(kind, itemsize)
    ? order === '<' || order === '>'
      ? order
      : NATIVE_ORDER
    : '|';
  return new (DType as unknown as new (p: DTypeParts) => DType)({
    kind,
    itemsize,
    byteorder,
    unit,
    unitCount,
    subarray: undefined,
    fields: undefined,
    alignment: naturalAlignment(kind, itemsize),
    flags: kind === 'O' ? OBJECT_FLAGS : kind === 'U' ? NEEDS_INIT : 0,
    metadata: undefined,
  });
}

function naturalAlignment(kind: string, itemsize: number): number {
  if (kind === 'S' || kind === 'V' || kind === 'b') return 1;
  if (kind === 'U') return 4;
  if (kind === 'c') return itemsize / 2;
  return Math.min(itemsize, 16);
}
