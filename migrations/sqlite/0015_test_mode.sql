-- Test mode (SPEC.md, "Testing and governance of events"): a workspace's test mode is a
-- sibling workspace row pointing at its live workspace. Every workspace-scoped table
-- (events, dedup, contacts, segments, workflows, runs, deliveries, secrets, rate-limit keys)
-- is therefore isolated between the two modes with no change to its queries. The sibling
-- is created on first need (a test key, the dashboard's switch); a workspace is live or
-- test for ever, so processes may cache which it is.
ALTER TABLE workspaces ADD COLUMN live_workspace_id TEXT REFERENCES workspaces(id);
-- At most one test sibling per live workspace, found by its live workspace.
CREATE UNIQUE INDEX workspaces_by_live ON workspaces (live_workspace_id) WHERE live_workspace_id IS NOT NULL;

-- The dashboard's "Test mode" switch, per session: on, every page shows the test sibling.
ALTER TABLE sessions ADD COLUMN test_mode INTEGER NOT NULL DEFAULT 0;
