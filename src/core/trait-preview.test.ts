import { describe, expect, it } from 'vitest';
import { ContactMerge, type ContactState } from './merge-properties.js';
import { OLDER_REASON, previewTraits } from './trait-preview.js';

const state = (): ContactState => ({
  properties: { email: 'a@example.com', status: 'SUBSCRIBED', plan: 'free', city: 'Berlin' },
  clocks: { plan: [1000, 1], city: [3000, 2], gone: [5000, 3] },
});

describe('previewTraits', () => {
  it('says per trait what the merge decides, and leaves the state untouched', () => {
    const s = state();
    const { changes, after } = previewTraits(s, undefined, { plan: 'pro', city: 'Rome', gone: 'back', email: 'x@example.com', status: 'NOPE' }, [2000, 9]);
    expect(changes).toEqual([
      { property: 'plan', from: 'free', to: 'pro', applied: true },
      { property: 'city', from: 'Berlin', to: 'Rome', applied: false, reason: OLDER_REASON },
      // A cleared property keeps its clock: an older event cannot bring it back.
      { property: 'gone', from: null, to: 'back', applied: false, reason: OLDER_REASON },
      { property: 'email', from: 'a@example.com', to: 'x@example.com', applied: false, reason: 'the contact is identify.email; a trait never changes it' },
      { property: 'status', from: 'SUBSCRIBED', to: 'NOPE', applied: false, reason: expect.stringContaining('not a contact status') },
    ]);
    expect(s).toEqual(state());
    expect(after.properties).toEqual({ email: 'a@example.com', status: 'SUBSCRIBED', plan: 'pro', city: 'Berlin' });
  });

  it('agrees with the live merge on the resulting state', () => {
    const traits = { plan: 'pro', city: null, extra: { a: 1 } };
    const live = new ContactMerge(state());
    live.apply({ plan: 'pro', city: null, extra: { a: 1 } }, [4000, 7]);
    expect(previewTraits(state(), undefined, traits, [4000, 7]).after).toEqual(live.state);
  });

  it('a trait beyond the contact limits is refused with the limit message', () => {
    const properties: Record<string, string> = { email: 'a@example.com', status: 'SUBSCRIBED' };
    for (let i = 0; i < 500; i++) properties[`p${i}`] = 'x';
    const { changes } = previewTraits({ properties, clocks: {} }, undefined, { p1: 'y', p999: 'z' }, [1, 1]);
    expect(changes[0]).toMatchObject({ property: 'p1', applied: true });
    expect(changes[1]).toMatchObject({ property: 'p999', applied: false, reason: expect.stringContaining('custom properties') });
  });
});
