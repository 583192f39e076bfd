DROP TABLE IF EXISTS access_token_denylist;
