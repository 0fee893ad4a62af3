-- Erasing a contact also erases the identity links (userId / anonymousId -> email) to its
-- address, so a later call by a linked id is held again instead of bringing the contact back.
-- This index makes that delete one seek.
CREATE INDEX identity_links_by_email ON identity_links (workspace_id, email) WHERE email IS NOT NULL;
