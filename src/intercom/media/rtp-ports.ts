// The ports an RTP socket may take from a configured range: even ones only
// (RFC 3550 11), both ends included. Kept apart from the socket code so that
// config validation can check a range without loading the media stack.

export interface PortRange {
  min: number;
  max: number;
}

/** The even ports of `range`: the first one and how many there are (0 when none). */
export function evenPorts(range: PortRange): { first: number; count: number } {
  const first = range.min + (range.min % 2);
  return { first, count: range.max >= first ? Math.floor((range.max - first) / 2) + 1 : 0 };
}

/** Why `range` cannot serve RTP, or undefined when it can. */
export function rtpRangeProblem(range: PortRange | undefined): string | undefined {
  if (!range) return undefined;
  if (range.max < range.min) return `min ${range.min} is above max ${range.max}`;
  if (evenPorts(range).count === 0) return `${range.min}-${range.max} holds no even port (RTP takes even ports)`;
  return undefined;
}
