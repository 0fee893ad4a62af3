/**
 * The list pages' one table and one pager. A Table is the columns and the rows; a Paged list
 * loads a cursor-paged dashboard API list (the public API's `cursor` and `limit`) a page at a
 * time: the first page on mount and whenever `deps` change, then "Load more" appends the
 * next page below what is shown, so what was read stays where it was (and the focus on the
 * button).
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from './api';

/** Rows per page of every paged list. */
export const PAGE_SIZE = 50;

export interface Column<T> {
  /** The header; an empty one is read out as `label` (a column of buttons: "Actions"). */
  header: string;
  label?: string;
  cell: (row: T) => ComponentChildren;
}

export function Table<T>({
  columns,
  rows,
  testId,
  rowKey,
  rowClass,
}: {
  columns: Column<T>[];
  rows: T[];
  testId?: string;
  rowKey?: (row: T) => string | number;
  rowClass?: (row: T) => string | undefined;
}) {
  return (
    <div class="scroll">
      <table data-testid={testId}>
        <thead>
          <tr>
            {columns.map((c) => (
              <th>{c.header || <span class="sr">{c.label ?? 'Actions'}</span>}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={rowKey?.(r)} class={rowClass?.(r)}>
              {columns.map((c) => (
                <td>{c.cell(r)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

type Pages<T> =
  | { state: 'loading' }
  | { state: 'error'; message: string }
  | { state: 'ok'; items: T[]; cursor: string | null; hasMore: boolean; more: 'idle' | 'loading' | { error: string } };

/** The pages read so far of one list; `more()` reads the next. */
export function usePages<T>(load: (cursor: string | undefined) => Promise<Page<T>>, deps: unknown[]): [Pages<T>, () => void] {
  const [v, setV] = useState<Pages<T>>({ state: 'loading' });
  // The load of the current deps: an answer for older deps (a filter changed meanwhile) is dropped.
  const generation = useRef(0);
  useEffect(() => {
    const g = ++generation.current;
    setV({ state: 'loading' });
    load(undefined).then(
      (p) => g === generation.current && setV({ state: 'ok', items: p.items, cursor: p.cursor, hasMore: p.hasMore, more: 'idle' }),
      (err: Error) => g === generation.current && setV({ state: 'error', message: err.message }),
    );
  }, deps);
  const more = () => {
    if (v.state !== 'ok' || !v.hasMore || v.more === 'loading' || v.cursor === null) return;
    const g = generation.current;
    const shown = v;
    setV({ ...shown, more: 'loading' });
    load(shown.cursor ?? undefined).then(
      (p) => g === generation.current && setV({ state: 'ok', items: [...shown.items, ...p.items], cursor: p.cursor, hasMore: p.hasMore, more: 'idle' }),
      (err: Error) => g === generation.current && setV({ ...shown, more: { error: err.message } }),
    );
  };
  return [v, more];
}

/**
 * A paged list: loading and error states, `empty` when the first page has nothing, else
 * `children` of every row read so far and, while there are more, a "Load more" button
 * (named after `noun`, e.g. "Load more runs").
 */
export function Paged<T>({
  load,
  deps,
  noun,
  empty,
  children,
}: {
  load: (cursor: string | undefined) => Promise<Page<T>>;
  deps: unknown[];
  noun: string;
  empty: ComponentChildren;
  children: (items: T[]) => ComponentChildren;
}) {
  const [v, more] = usePages(load, deps);
  if (v.state === 'loading') return <p class="muted" role="status">Loading…</p>;
  if (v.state === 'error') return <p class="error" role="alert">Could not load: {v.message}</p>;
  if (v.items.length === 0) return <>{empty}</>;
  return (
    <>
      {children(v.items)}
      {v.hasMore && (
        <p class="row">
          <button type="button" aria-disabled={v.more === 'loading'} onClick={more}>
            Load more {noun}
          </button>
          <span class="muted" role="status">
            {v.more === 'loading' ? 'Loading…' : `${v.items.length} shown`}
          </span>
          {typeof v.more === 'object' && (
            <span class="error" role="alert">
              Could not load: {v.more.error}
            </span>
          )}
        </p>
      )}
    </>
  );
}

/** A Paged list shown as a Table. */
export function PagedTable<T>(
  props: {
    load: (cursor: string | undefined) => Promise<Page<T>>;
    deps: unknown[];
    noun: string;
    empty: ComponentChildren;
    /** A row as shown (e.g. one changed in place by an action since it was read). */
    present?: (row: T) => T;
  } & Omit<Parameters<typeof Table<T>>[0], 'rows'>,
) {
  const { load, deps, noun, empty, present, ...table } = props;
  return (
    <Paged load={load} deps={deps} noun={noun} empty={empty}>
      {(items) => <Table {...table} rows={present ? items.map(present) : items} />}
    </Paged>
  );
}
