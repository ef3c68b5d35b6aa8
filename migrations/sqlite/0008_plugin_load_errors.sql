-- Why a server could not load an enabled plugin, for the plugin version (its updated_at) it
-- tried: `plugin list` and `admin/plugins/list` show it instead of a plain "enabled".
ALTER TABLE plugins ADD COLUMN load_error TEXT;
ALTER TABLE plugins ADD COLUMN load_error_version INTEGER;
