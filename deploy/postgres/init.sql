-- One database and one login role per service: a service can only reach its own store.
-- Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d),
-- through psql, which reads the passwords from the container environment (\getenv,
-- psql 15+). A missing password leaves its variable unset and aborts the init.
-- Elsewhere: INTAKE_DB_PASSWORD=... [...] psql -v ON_ERROR_STOP=1 -U postgres -f init.sql

\getenv intake_password INTAKE_DB_PASSWORD
\getenv verification_password VERIFICATION_DB_PASSWORD
\getenv rewards_password REWARDS_DB_PASSWORD
\getenv notifications_password NOTIFICATIONS_DB_PASSWORD
\getenv console_password CONSOLE_DB_PASSWORD

CREATE ROLE hazardloop_intake LOGIN PASSWORD :'intake_password';
CREATE ROLE hazardloop_verification LOGIN PASSWORD :'verification_password';
CREATE ROLE hazardloop_rewards LOGIN PASSWORD :'rewards_password';
CREATE ROLE hazardloop_notifications LOGIN PASSWORD :'notifications_password';
CREATE ROLE hazardloop_console LOGIN PASSWORD :'console_password';

-- The owner may create its tables in the public schema (owned by pg_database_owner).
CREATE DATABASE hazardloop_intake OWNER hazardloop_intake;
CREATE DATABASE hazardloop_verification OWNER hazardloop_verification;
CREATE DATABASE hazardloop_rewards OWNER hazardloop_rewards;
CREATE DATABASE hazardloop_notifications OWNER hazardloop_notifications;
CREATE DATABASE hazardloop_console OWNER hazardloop_console;

REVOKE ALL ON DATABASE hazardloop_intake FROM PUBLIC;
REVOKE ALL ON DATABASE hazardloop_verification FROM PUBLIC;
REVOKE ALL ON DATABASE hazardloop_rewards FROM PUBLIC;
REVOKE ALL ON DATABASE hazardloop_notifications FROM PUBLIC;
REVOKE ALL ON DATABASE hazardloop_console FROM PUBLIC;
