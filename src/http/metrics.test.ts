import { describe, expect, it } from 'vitest';
import { MAX_WORKSPACE_SERIES, Metrics, OTHER_WORKSPACES } from './metrics.js';

describe('Metrics', () => {
  it('per-workspace duplicates: at most MAX_WORKSPACE_SERIES series, the rest counted together', async () => {
    const m = new Metrics({ defaultMetrics: false });
    const counters = m.ingestCounters();
    for (let i = 0; i < MAX_WORKSPACE_SERIES + 5; i++) counters.duplicate('single', 1, `ws_${i}`);
    counters.duplicate('batch', 2, 'ws_0');
    const { values } = await m.duplicateByWorkspace.get();
    expect(values).toHaveLength(MAX_WORKSPACE_SERIES + 1);
    expect(values.find((v) => v.labels.workspace === 'ws_0')!.value).toBe(3);
    expect(values.find((v) => v.labels.workspace === OTHER_WORKSPACES)!.value).toBe(5);
  });
});
