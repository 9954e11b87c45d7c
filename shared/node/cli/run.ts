// Process entry of `dpw` (bin/dpw.mjs loads this through tsx).
import { main } from './main';

const io = {
  out: (s: string) => process.stdout.write(s + '\n'),
  err: (s: string) => process.stderr.write(s + '\n'),
};
main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`dpw: internal error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
