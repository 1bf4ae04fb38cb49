-- docker-compose: one database per service, owned by the application role (what
-- `hopen up` does with the embedded PostgreSQL).
CREATE ROLE hopen LOGIN PASSWORD 'hopen';
CREATE DATABASE hopen_referentiel OWNER hopen;
CREATE DATABASE hopen_candidature OWNER hopen;
CREATE DATABASE hopen_instruction OWNER hopen;
CREATE DATABASE hopen_financement OWNER hopen;
CREATE DATABASE hopen_reporting OWNER hopen;
