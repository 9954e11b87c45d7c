// `dpw mechanism`: noise scale, standard deviation and accuracy of one release, or the exact ε of
// a Gaussian with a given σ.

import { makeLaplace } from '../../../core/dp/mechanisms/laplace';
import { analyticGaussianEpsilon, classicGaussianSigma, makeGaussian } from '../../../core/dp/mechanisms/gaussian';
import { makeDiscreteLaplace } from '../../../core/dp/mechanisms/discrete-laplace';
import { makeDiscreteGaussianForPrivacy } from '../../../core/dp/mechanisms/discrete-gaussian';
import type { AdditiveMechanism } from '../../../core/dp/mechanisms/types';
import type { Io } from '../args';
import { choiceFlag, numberFlag, parse, requireFlag, UsageError } from '../args';

const KINDS = ['laplace', 'gaussian', 'gaussian-classic', 'discrete-laplace', 'discrete-gaussian'] as const;

export const mechanismHelp = `Usage: dpw mechanism --kind KIND --epsilon E [--delta D] [--sensitivity S] [--alpha A] [--json]
       dpw mechanism --kind gaussian --sigma S --delta D [--sensitivity S] [--json]

Noise of one release. KIND: ${KINDS.join(' | ')}.
  --epsilon E      privacy parameter of this release (> 0)
  --delta D        required by the Gaussian kinds, in (0, 1)
  --sensitivity S  L1 sensitivity (Laplace kinds) or L2 sensitivity (Gaussian kinds); default 1
  --alpha A        accuracy is the noise half-width a with P(|noise| > a) <= A; default 0.05
  --sigma S        with --kind gaussian: print the exact (analytic, Balle & Wang 2018) epsilon of sigma S
  --json           print {"kind","scale","std","accuracy"} (or {"epsilon"} with --sigma)

scale is b for Laplace, sigma for Gaussian, t for discrete Laplace (P(k) ~ exp(-|k|/t)).
Simulation only: noise drawn by this tool is not for real releases.`;

export function runMechanism(argv: string[], io: Io): number {
  const { values } = parse(argv, {
    kind: { type: 'string' }, epsilon: { type: 'string' }, delta: { type: 'string' }, sensitivity: { type: 'string' },
    alpha: { type: 'string' }, sigma: { type: 'string' }, json: { type: 'boolean' },
  });
  if (values.help) {
    io.out(mechanismHelp);
    return 0;
  }
  const kind = requireFlag(choiceFlag(values, 'kind', KINDS), 'kind', `is required (one of ${KINDS.join(', ')})`);
  const sensitivity = numberFlag(values, 'sensitivity', 'positive', 1)!;
  const alpha = numberFlag(values, 'alpha', 'open-unit', 0.05)!;
  const json = values.json === true;

  if (values.sigma !== undefined) {
    if (kind !== 'gaussian') throw new UsageError(`--sigma ${JSON.stringify(values.sigma)}: only valid with --kind gaussian`);
    if (values.epsilon !== undefined) throw new UsageError(`--epsilon ${JSON.stringify(values.epsilon)}: give --sigma or --epsilon, not both`);
    const sigma = numberFlag(values, 'sigma', 'positive')!;
    const delta = requireFlag(numberFlag(values, 'delta', 'open-unit'), 'delta', 'is required with --sigma');
    const epsilon = analyticGaussianEpsilon(sigma, delta, sensitivity);
    io.out(json ? JSON.stringify({ epsilon }) : `epsilon ${epsilon} (analytic Gaussian, sigma ${sigma}, delta ${delta}, L2 sensitivity ${sensitivity})`);
    return 0;
  }

  const epsilon = requireFlag(numberFlag(values, 'epsilon', 'positive'), 'epsilon');
  const needsDelta = kind === 'gaussian' || kind === 'gaussian-classic' || kind === 'discrete-gaussian';
  const delta = numberFlag(values, 'delta', 'open-unit');
  if (needsDelta && delta === undefined) throw new UsageError(`--delta is required with --kind ${kind}`);
  if (!needsDelta && delta !== undefined && delta !== 0) throw new UsageError(`--delta ${JSON.stringify(values.delta)}: --kind ${kind} is pure epsilon-DP and takes no delta`);
  if (kind === 'gaussian-classic' && epsilon >= 1) {
    throw new UsageError(`--epsilon ${JSON.stringify(values.epsilon)}: the classic Gaussian mechanism needs epsilon < 1 (use --kind gaussian)`);
  }
  if ((kind === 'discrete-laplace' || kind === 'discrete-gaussian') && !Number.isInteger(sensitivity)) {
    throw new UsageError(`--sensitivity ${JSON.stringify(values.sensitivity)}: must be an integer for --kind ${kind}`);
  }

  let mech: AdditiveMechanism;
  switch (kind) {
    case 'laplace':
      mech = makeLaplace({ sensitivity, epsilon });
      break;
    case 'gaussian':
      mech = makeGaussian({ sensitivity, epsilon, delta: delta!, variant: 'analytic' });
      break;
    case 'gaussian-classic':
      mech = makeGaussian({ sensitivity, sigma: classicGaussianSigma(epsilon, delta!, sensitivity), delta: delta! });
      break;
    case 'discrete-laplace':
      mech = makeDiscreteLaplace({ sensitivity, epsilon });
      break;
    case 'discrete-gaussian':
      mech = makeDiscreteGaussianForPrivacy({ sensitivity, epsilon, delta: delta! });
      break;
  }
  const result = { kind, scale: mech.scale, std: mech.std, accuracy: mech.accuracy(alpha) };
  if (json) io.out(JSON.stringify(result));
  else {
    io.out(`${kind}: scale ${result.scale}, std ${result.std}, accuracy ±${result.accuracy} at ${(1 - alpha) * 100}% (epsilon ${epsilon}${delta !== undefined ? `, delta ${delta}` : ''}, sensitivity ${sensitivity})`);
  }
  return 0;
}
