// The part of bencode's API this project uses (it ships no types).
declare module 'bencode' {
  const bencode: {
    encode(value: unknown): Uint8Array;
    /** Byte strings come back as Uint8Array. */
    decode(data: Uint8Array): unknown;
  };
  export default bencode;
}
