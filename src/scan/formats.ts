/**
 * The containers pickles come in, read without Node: zip archives (PyTorch checkpoints, `.npz`),
 * `.npy` arrays (an object array is a header then a pickle), and the magic numbers that tell
 * them apart. Deflated zip members need an `inflateRaw` function (the Node entry point passes
 * node:zlib's); stored ones, PyTorch's usual layout, need nothing.
 */

/** Raised for a container that cannot be read (a broken zip, a bad `.npy` header). */
export class ContainerError extends Error {
  override name = 'ContainerError';
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

function startsWith(data: Uint8Array, magic: readonly number[], at = 0): boolean {
  if (data.length < at + magic.length) return false;
  for (let i = 0; i < magic.length; i++) if (data[at + i] !== magic[i]) return false;
  return true;
}

/** Whether `data` is a zip archive (a local file header, or an empty archive's end record). */
export function isZip(data: Uint8Array): boolean {
  return startsWith(data, [0x50, 0x4b, 0x03, 0x04]) || startsWith(data, [0x50, 0x4b, 0x05, 0x06]);
}

/** Whether `data` is a `.npy` array file. */
export function isNpy(data: Uint8Array): boolean {
  return startsWith(data, NPY_MAGIC);
}

/** A zlib stream (joblib's default compression): CMF/FLG with deflate and a valid check. */
export function isZlib(data: Uint8Array): boolean {
  if (data.length < 2) return false;
  const cmf = data[0]!;
  const flg = data[1]!;
  return (cmf & 0x0f) === 8 && cmf >> 4 <= 7 && ((cmf << 8) | flg) % 31 === 0 && (flg & 0x20) === 0;
}

export interface NpyHeader {
  /** Where the array data (for an object array, the pickle) starts. */
  readonly dataStart: number;
  /** The header's `descr`, as written. */
  readonly descr: string;
  /** Whether the dtype holds Python objects: then the data is a pickle. */
  readonly hasObject: boolean;
}

/** Reads a `.npy` header (format versions 1, 2 and 3). */
export function readNpyHeader(data: Uint8Array): NpyHeader {
  if (data.length < 10) throw new ContainerError('.npy header truncated', data.length);
  const major = data[6]!;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let length: number;
  let start: number;
  if (major === 1) {
    length = view.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (data.length < 12) throw new ContainerError('.npy header truncated', data.length);
    length = view.getUint32(8, true);
    start = 12;
  } else {
    throw new ContainerError(`unknown .npy format version ${major}.${data[7]}`, 6);
  }
  if (start + length > data.length) throw new ContainerError('.npy header truncated', data.length);
  let text = '';
  for (let i = start; i < start + length; i++) text += String.fromCharCode(data[i]!);
  const match = /['"]descr['"]\s*:\s*/.exec(text);
  if (match === null) throw new ContainerError('.npy header has no descr', start);
  const descr = text
    .slice(match.index + match[0].length)
    .split(/,\s*['"](fortran_order|shape)['"]/)[0]!;
  // A type code 'O' (object) anywhere in the descr, as a simple or a structured dtype.
  const hasObject = /['"][|<>=]?O\d*['"]/.test(descr);
  return { dataStart: start + length, descr: descr.trim(), hasObject };
}

export interface ZipMember {
  readonly name: string;
  /** Offset of the member's local header in the archive. */
  readonly offset: number;
  readonly method: number;
  readonly compressedSize: number;
  readonly size: number;
  /** Offset of its (possibly compressed) data. */
  readonly dataStart: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new ContainerError('zip size too large', at);
  return Number(v);
}

/** Lists a zip archive's members from its central directory (ZIP64 included). */
export function readZipDirectory(data: Uint8Array): ZipMember[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 0xffff); i--) {
    if (view.getUint32(i, true) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0)
    throw new ContainerError('zip end of central directory not found (truncated?)', data.length);
  let count = view.getUint16(eocd + 10, true);
  let dirOffset = view.getUint32(eocd + 16, true);
  if (eocd >= 20 && view.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
    const at = u64(view, eocd - 20 + 8);
    if (at + 56 > data.length || view.getUint32(at, true) !== ZIP64_EOCD) {
      throw new ContainerError('bad ZIP64 end of central directory', at);
    }
    count = u64(view, at + 32);
    dirOffset = u64(view, at + 48);
  }
  const members: ZipMember[] = [];
  let p = dirOffset;
  for (let n = 0; n < count; n++) {
    if (p + 46 > data.length || view.getUint32(p, true) !== CENTRAL) {
      throw new ContainerError('bad zip central directory entry', p);
    }
    const method = view.getUint16(p + 10, true);
    let compressedSize = view.getUint32(p + 20, true);
    let size = view.getUint32(p + 24, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    let offset = view.getUint32(p + 42, true);
    if (p + 46 + nameLength + extraLength > data.length) {
      throw new ContainerError('zip central directory truncated', p);
    }
    const name = new TextDecoder().decode(data.subarray(p + 46, p + 46 + nameLength));
    // ZIP64 extra field: the 64-bit values of the fields set to 0xffffffff, in order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = view.getUint16(e, true);
      const len = view.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(view, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(view, q);
          q += 8;
        }
        if (offset === 0xffffffff) offset = u64(view, q);
      }
      e += 4 + len;
    }
    if (offset + 30 > data.length || view.getUint32(offset, true) !== LOCAL) {
      throw new ContainerError(`zip member ${name}: bad local header`, offset);
    }
    const dataStart =
      offset + 30 + view.getUint16(offset + 26, true) + view.getUint16(offset + 28, true);
    if (dataStart + compressedSize > data.length) {
      throw new ContainerError(`zip member ${name} runs past the end of the archive`, offset);
    }
    members.push({ name, offset, method, compressedSize, size, dataStart });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return members;
}

/** A member's bytes: stored ones as they are, deflated ones through `inflateRaw`. */
export function zipMemberData(
  data: Uint8Array,
  member: ZipMember,
  inflateRaw: ((data: Uint8Array, size: number) => Uint8Array) | undefined,
): Uint8Array {
  const raw = data.subarray(member.dataStart, member.dataStart + member.compressedSize);
  if (member.method === 0) return raw;
  if (member.method === 8) {
    if (inflateRaw === undefined) {
      throw new ContainerError(
        `zip member ${member.name} is deflated and no inflateRaw was given`,
        member.offset,
      );
    }
    try {
      return inflateRaw(raw, member.size);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      throw new ContainerError(
        `zip member ${member.name}: cannot inflate: ${reason}`,
        member.offset,
      );
    }
  }
  throw new ContainerError(
    `zip member ${member.name} uses compression method ${member.method}`,
    member.offset,
  );
}

/** The magic number PyTorch's legacy (non-zip) `torch.save` writes as its first pickle. */
export const TORCH_LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;
