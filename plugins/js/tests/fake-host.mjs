// The host interface for tests: `log` keeps what it is given.

export const logged = [];

export function log(level, message) {
  logged.push([level, message]);
}
