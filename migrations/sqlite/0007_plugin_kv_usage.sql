-- What each plugin's key-value entries cost against its quota, kept up to date as entries
-- change, so that a write checks the quota in one row instead of summing every entry the
-- plugin has. An entry costs the bytes of its plugin, bucket and key names and its value, plus
-- 64 for the row's own overhead (ENTRY_OVERHEAD in host/store/src/plugin_kv.rs).
CREATE TABLE plugin_kv_usage (
    plugin TEXT PRIMARY KEY,
    bytes INTEGER NOT NULL,
    entries INTEGER NOT NULL
);
INSERT INTO plugin_kv_usage (plugin, bytes, entries)
SELECT plugin,
       SUM(64 + LENGTH(CAST(plugin AS BLOB)) + LENGTH(CAST(bucket AS BLOB))
           + LENGTH(CAST(key AS BLOB)) + LENGTH(value)),
       COUNT(*)
FROM plugin_kv
GROUP BY plugin;
