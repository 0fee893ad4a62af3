/** Formatting shared by run-bench.mjs and summarize-runs.mjs. */

export function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return 'n/a';
  return Number(n).toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export function digitsFor(unit) {
  if (unit === 'µs') return 1;
  return unit === 's' || unit === '×' || unit === 'ms' || unit === '%' ? 2 : 0;
}

/** The markdown table of one run's figures. */
export function table(figs) {
  const rows = ['| figure | value | ratio | target | holds | notes |', '| --- | ---: | ---: | --- | --- | --- |'];
  for (const x of figs) {
    rows.push(
      `| ${x.label} | ${x.value === null ? 'n/a' : `${fmt(x.value, digitsFor(x.unit))} ${x.unit}`} | ${x.ratio !== undefined ? fmt(x.ratio, 2) : ''} | ${x.target ?? ''} | ${x.pass === undefined ? '' : x.pass ? 'yes' : '**no**'} | ${x.detail ?? ''} |`,
    );
  }
  return rows.join('\n');
}
