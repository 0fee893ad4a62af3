import { describe, expect, it } from 'vitest';
import { GroupCommit } from './group-commit.js';

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/** A commit function that records each group and holds it open until released. */
function heldCommits() {
  const groups: { requests: number[]; release: () => void; fail: (err: Error) => void }[] = [];
  const commit = (requests: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      groups.push({ requests, release: () => resolve(requests.map((r) => `ok ${r}`)), fail: reject });
    });
  return { groups, commit };
}

describe('GroupCommit', () => {
  it('commits the requests of one turn as one group, on the next turn, and answers each in order', async () => {
    const groups: number[][] = [];
    const gc = new GroupCommit<number, number>((g) => {
      groups.push([...g]);
      return g.map((r) => r * 10);
    });
    const answers = Promise.all([1, 2, 3].map((r) => gc.submit(r)));
    expect(groups).toEqual([]);
    expect(await answers).toEqual([10, 20, 30]);
    expect(groups).toEqual([[1, 2, 3]]);
    expect(await gc.submit(4)).toBe(40);
    expect(groups).toEqual([[1, 2, 3], [4]]);
  });

  it('without a limit, a request arriving while a group commits goes in a group of its own at once', async () => {
    const { groups, commit } = heldCommits();
    const gc = new GroupCommit(commit);
    const a = gc.submit(1);
    await nextTurn();
    const b = gc.submit(2);
    const c = gc.submit(3);
    await nextTurn();
    expect(groups.map((g) => g.requests)).toEqual([[1], [2, 3]]);
    groups[1]!.release();
    groups[0]!.release();
    expect(await Promise.all([a, b, c])).toEqual(['ok 1', 'ok 2', 'ok 3']);
  });

  it('at maxInFlight, requests keep queueing and go together when a group finishes', async () => {
    const { groups, commit } = heldCommits();
    const gc = new GroupCommit(commit, { maxInFlight: 2 });
    const first = gc.submit(1);
    await nextTurn();
    const second = gc.submit(2);
    await nextTurn();
    const waiting = [3, 4, 5].map((r) => gc.submit(r));
    await nextTurn();
    await nextTurn();
    expect(groups.map((g) => g.requests)).toEqual([[1], [2]]);
    groups[0]!.release();
    expect(await first).toBe('ok 1');
    await nextTurn();
    expect(groups.map((g) => g.requests)).toEqual([[1], [2], [3, 4, 5]]);
    groups[2]!.release();
    groups[1]!.release();
    expect(await Promise.all([second, ...waiting])).toEqual(['ok 2', 'ok 3', 'ok 4', 'ok 5']);
  });

  it('a failed commit fails every request of its group, and only that group', async () => {
    let calls = 0;
    const gc = new GroupCommit<string, string>((g) => {
      calls++;
      if (calls === 1) throw new Error('disk full');
      if (calls === 2) return Promise.reject(new Error('connection lost'));
      return g;
    });
    const thrown = [gc.submit('a'), gc.submit('b')];
    await expect(thrown[0]).rejects.toThrow('disk full');
    await expect(thrown[1]).rejects.toThrow('disk full');
    await expect(gc.submit('c')).rejects.toThrow('connection lost');
    expect(await gc.submit('d')).toBe('d');
  });

  it('flush() commits what is pending at once, inside the call', async () => {
    const groups: string[][] = [];
    const gc = new GroupCommit<string, string>((g) => {
      groups.push([...g]);
      return g;
    });
    const a = gc.submit('a');
    gc.flush();
    expect(groups).toEqual([['a']]);
    gc.flush(); // nothing pending: no empty group
    await nextTurn();
    expect(groups).toEqual([['a']]);
    expect(await a).toBe('a');
  });
});
