"""The MySQL/MariaDB classification corpus: (sql, expected class, note). Data only.

Used by tests/iap/test_classify_mysql.py (the classifier must give the expected class under
CORPUS_SQL_MODE), tests/e2e/test_classify_truth_mysql.py (each case that is safe to run
runs on a throwaway database of a real MariaDB, and what changed there must be consistent
with the class) and bench/classify.py (the MySQL mixes). Statements name the fixture's
tables: customers (id, email, deleted_at, drop_count, `delete`), orders (id, customer_id,
total, note, status), `drop` (id, `truncate`) and the sequence order_seq.

Client traffic was captured from MariaDB's general log on this machine (SET GLOBAL
general_log=1 around each client, then off): pymysql 1.1 (connect, a query, commit), the
mariadb 10.11 CLI (start, `\\s`, `status`), SQLAlchemy 2.0 with pymysql (connect and
inspect(): get_table_names, get_columns, get_indexes, get_foreign_keys, get_pk_constraint),
MariaDB Connector/J 2.7.6 (Debian libmariadb-java; a throwaway Java program calling
DatabaseMetaData getTables, getColumns, getPrimaryKeys, getIndexInfo, getImportedKeys) and
mariadb-dump 10.11 (its server-side queries, and lines of the dump file it wrote). Later, on
MariaDB 10.11.19: pymysql 1.2.4, mysql-connector-python 26.10.0, the mariadb 10.11.19 CLI
(interactive start, `\\s`, `use`: nothing new), mariadb-dump 10.11.19 of a database with a
sequence, a view, a trigger, a function and a procedure, and that dump restored through the
mariadb CLI (`mariadb db < dump.sql`), statement by statement as the CLI sent it.
"""

from __future__ import annotations

R, W, D, X, A, U = "read", "write", "ddl", "destructive", "admin", "unknown"

# The session the corpus is classified under: this machine's MariaDB defaults.
CORPUS_SQL_MODE = (
    "STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION"
)
CORPUS_CHARSET = "utf8mb4"

CAPTURED: list[tuple[str, str, str]] = [
    # -- pymysql 1.1: connect(charset="utf8mb4"), cursor.execute, commit
    ("SET NAMES utf8mb4", R, "captured: pymysql connect"),
    ("SET AUTOCOMMIT = 0", R, "captured: pymysql connect (autocommit=False)"),
    ("SELECT id, email FROM customers WHERE id = 1", R, "captured: pymysql query"),
    ("COMMIT", R, "captured: pymysql commit"),
    # -- mariadb 10.11 CLI: start (auto-rehash), \s and status
    ("show databases", R, "captured: mariadb CLI start (auto-rehash)"),
    ("show tables", R, "captured: mariadb CLI start (auto-rehash)"),
    ("select @@version_comment limit 1", R, "captured: mariadb CLI start"),
    ("select DATABASE(), USER() limit 1", R, "captured: mariadb CLI \\s / status"),
    (
        "select @@character_set_client, @@character_set_connection, @@character_set_server,"
        " @@character_set_database limit 1",
        R,
        "captured: mariadb CLI \\s / status",
    ),
    # -- SQLAlchemy 2.0 + pymysql: connect, inspect() reflection
    ("SELECT VERSION()", R, "captured: SQLAlchemy connect"),
    ("SELECT DATABASE()", R, "captured: SQLAlchemy connect"),
    ("SELECT @@tx_isolation", R, "captured: SQLAlchemy connect"),
    ("SELECT @@sql_mode", R, "captured: SQLAlchemy connect"),
    ("SELECT @@lower_case_table_names", R, "captured: SQLAlchemy connect"),
    ("ROLLBACK", R, "captured: SQLAlchemy pool reset"),
    ("SHOW FULL TABLES FROM `iap_capture`", R, "captured: SQLAlchemy get_table_names"),
    ("SHOW CREATE TABLE `customers`", R, "captured: SQLAlchemy get_columns/indexes/fks"),
    # -- MariaDB Connector/J 2.7.6: connect, DatabaseMetaData
    (
        "set autocommit=1, sql_mode = concat(@@sql_mode,',STRICT_TRANS_TABLES')",
        R,
        "captured: Connector/J connect",
    ),
    (
        "SELECT @@max_allowed_packet,@@system_time_zone,@@time_zone,@@auto_increment_increment",
        R,
        "captured: Connector/J connect",
    ),
    (
        "SELECT TABLE_SCHEMA TABLE_CAT, NULL TABLE_SCHEM, TABLE_NAME, IF(TABLE_TYPE='BASE TABLE'"
        " or TABLE_TYPE='SYSTEM VERSIONED', 'TABLE', TABLE_TYPE) as TABLE_TYPE, TABLE_COMMENT"
        " REMARKS, NULL TYPE_CAT, NULL TYPE_SCHEM, NULL TYPE_NAME, NULL"
        " SELF_REFERENCING_COL_NAME, NULL REF_GENERATION FROM INFORMATION_SCHEMA.TABLES WHERE"
        " TABLE_SCHEMA='iap_capture' AND  TABLE_TYPE IN ('BASE TABLE','SYSTEM VERSIONED') ORDER"
        " BY TABLE_TYPE, TABLE_SCHEMA, TABLE_NAME",
        R,
        "captured: Connector/J getTables",
    ),
    (
        "SELECT TABLE_SCHEMA TABLE_CAT, NULL TABLE_SCHEM, TABLE_NAME, COLUMN_NAME, CASE data_type"
        " WHEN 'bit' THEN -7 WHEN 'tinyblob' THEN -3 WHEN 'mediumblob' THEN -4 WHEN 'longblob'"
        " THEN -4 WHEN 'blob' THEN -4 WHEN 'tinytext' THEN 12 WHEN 'mediumtext' THEN -1 WHEN"
        " 'longtext' THEN -1 WHEN 'text' THEN -1 WHEN 'date' THEN 91 WHEN 'datetime' THEN 93"
        " WHEN 'decimal' THEN 3 WHEN 'double' THEN 8 WHEN 'enum' THEN 12 WHEN 'float' THEN 7"
        " WHEN 'int' THEN IF( COLUMN_TYPE like '%unsigned%', 4,4) WHEN 'bigint' THEN -5 WHEN"
        " 'mediumint' THEN 4 WHEN 'null' THEN 0 WHEN 'set' THEN 12 WHEN 'smallint' THEN IF("
        " COLUMN_TYPE like '%unsigned%', 5,5) WHEN 'varchar' THEN 12 WHEN 'varbinary' THEN -3"
        " WHEN 'char' THEN 1 WHEN 'binary' THEN -2 WHEN 'time' THEN 92 WHEN 'timestamp' THEN 93"
        " WHEN 'tinyint' THEN IF(COLUMN_TYPE like 'tinyint(1)%',-7,-6)  WHEN 'year' THEN 91"
        " ELSE 1111 END  DATA_TYPE, IF(COLUMN_TYPE like 'tinyint(1)%', 'BIT',  UCASE(IF("
        " COLUMN_TYPE LIKE '%(%)%', CONCAT(SUBSTRING( COLUMN_TYPE,1, LOCATE('(',COLUMN_TYPE) - 1"
        " ), SUBSTRING(COLUMN_TYPE ,1+locate(')', COLUMN_TYPE))), COLUMN_TYPE))) TYPE_NAME,  CASE"
        " DATA_TYPE  WHEN 'time' THEN IF(DATETIME_PRECISION = 0, 10, CAST(11 +"
        " DATETIME_PRECISION as signed integer))  WHEN 'date' THEN 10  WHEN 'datetime' THEN"
        " IF(DATETIME_PRECISION = 0, 19, CAST(20 + DATETIME_PRECISION as signed integer))  WHEN"
        " 'timestamp' THEN IF(DATETIME_PRECISION = 0, 19, CAST(20 + DATETIME_PRECISION as"
        " signed integer))  ELSE   IF(NUMERIC_PRECISION IS NULL,"
        " LEAST(CHARACTER_MAXIMUM_LENGTH,2147483647), NUMERIC_PRECISION)  END COLUMN_SIZE, 65535"
        " BUFFER_LENGTH,  CONVERT (CASE DATA_TYPE WHEN 'year' THEN NUMERIC_SCALE WHEN 'tinyint'"
        " THEN 0 ELSE NUMERIC_SCALE END, UNSIGNED INTEGER) DECIMAL_DIGITS, 10 NUM_PREC_RADIX,"
        " IF(IS_NULLABLE = 'yes',1,0) NULLABLE,COLUMN_COMMENT REMARKS, COLUMN_DEFAULT"
        " COLUMN_DEF, 0 SQL_DATA_TYPE, 0 SQL_DATETIME_SUB,"
        "   LEAST(CHARACTER_OCTET_LENGTH,2147483647) CHAR_OCTET_LENGTH, ORDINAL_POSITION,"
        " IS_NULLABLE, NULL SCOPE_CATALOG, NULL SCOPE_SCHEMA, NULL SCOPE_TABLE, NULL"
        " SOURCE_DATA_TYPE, IF(EXTRA = 'auto_increment','YES','NO') IS_AUTOINCREMENT,  IF(EXTRA"
        " in ('VIRTUAL', 'PERSISTENT', 'VIRTUAL GENERATED', 'STORED GENERATED') ,'YES','NO')"
        " IS_GENERATEDCOLUMN  FROM INFORMATION_SCHEMA.COLUMNS  WHERE TABLE_SCHEMA='iap_capture'"
        " AND TABLE_NAME='orders' ORDER BY TABLE_CAT, TABLE_SCHEM, TABLE_NAME, ORDINAL_POSITION",
        R,
        "captured: Connector/J getColumns",
    ),
    (
        "SELECT A.TABLE_SCHEMA TABLE_CAT, NULL TABLE_SCHEM, A.TABLE_NAME, A.COLUMN_NAME,"
        " B.SEQ_IN_INDEX KEY_SEQ, B.INDEX_NAME PK_NAME  FROM INFORMATION_SCHEMA.COLUMNS A,"
        " INFORMATION_SCHEMA.STATISTICS B WHERE A.COLUMN_KEY in ('PRI','pri') AND"
        " B.INDEX_NAME='PRIMARY'  AND A.TABLE_SCHEMA='iap_capture' AND"
        " B.TABLE_SCHEMA='iap_capture' AND A.TABLE_NAME='orders' AND B.TABLE_NAME='orders' AND"
        " A.TABLE_SCHEMA = B.TABLE_SCHEMA AND A.TABLE_NAME = B.TABLE_NAME AND A.COLUMN_NAME ="
        " B.COLUMN_NAME ORDER BY A.COLUMN_NAME",
        R,
        "captured: Connector/J getPrimaryKeys",
    ),
    (
        "SELECT TABLE_SCHEMA TABLE_CAT, NULL TABLE_SCHEM, TABLE_NAME, NON_UNIQUE,  TABLE_SCHEMA"
        " INDEX_QUALIFIER, INDEX_NAME, 3 TYPE, SEQ_IN_INDEX ORDINAL_POSITION, COLUMN_NAME,"
        " COLLATION ASC_OR_DESC, CARDINALITY, NULL PAGES, NULL FILTER_CONDITION FROM"
        " INFORMATION_SCHEMA.STATISTICS WHERE TABLE_SCHEMA='iap_capture' AND TABLE_NAME ="
        " 'orders' ORDER BY NON_UNIQUE, TYPE, INDEX_NAME, ORDINAL_POSITION",
        R,
        "captured: Connector/J getIndexInfo",
    ),
    ("SHOW CREATE TABLE `iap_capture`.`orders`", R, "captured: Connector/J getImportedKeys"),
    ("SELECT 1", R, "captured: Connector/J and SQLAlchemy validation query"),
    # -- mariadb-dump 10.11 --single-transaction: its queries to the server
    ("/*!40100 SET @@SQL_MODE='' */", R, "captured: mariadb-dump"),
    ("/*!40103 SET TIME_ZONE='+00:00' */", R, "captured: mariadb-dump"),
    ("/*M!100100 SET @@MAX_STATEMENT_TIME=0.000000 */", R, "captured: mariadb-dump"),
    ("/*M!100100 SET WAIT_TIMEOUT=DEFAULT */", R, "captured: mariadb-dump"),
    ("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", R, "captured: mariadb-dump"),
    ("START TRANSACTION /*!40100 WITH CONSISTENT SNAPSHOT */", R, "captured: mariadb-dump"),
    ("UNLOCK TABLES", R, "captured: mariadb-dump"),
    ("set optimizer_switch='semijoin=off'", R, "captured: mariadb-dump"),
    (
        "SELECT LOGFILE_GROUP_NAME, FILE_NAME, TOTAL_EXTENTS, INITIAL_SIZE, ENGINE, EXTRA FROM"
        " INFORMATION_SCHEMA.FILES WHERE FILE_TYPE = 'UNDO LOG' AND FILE_NAME IS NOT NULL AND"
        " LOGFILE_GROUP_NAME IS NOT NULL AND LOGFILE_GROUP_NAME IN (SELECT DISTINCT"
        " LOGFILE_GROUP_NAME FROM INFORMATION_SCHEMA.FILES WHERE FILE_TYPE = 'DATAFILE' AND"
        " TABLESPACE_NAME IN (SELECT DISTINCT TABLESPACE_NAME FROM INFORMATION_SCHEMA.PARTITIONS"
        " WHERE TABLE_SCHEMA IN ('iap_capture'))) GROUP BY LOGFILE_GROUP_NAME, FILE_NAME, ENGINE,"
        " TOTAL_EXTENTS, INITIAL_SIZE ORDER BY LOGFILE_GROUP_NAME",
        R,
        "captured: mariadb-dump",
    ),
    ("set optimizer_switch=default", R, "captured: mariadb-dump"),
    ("SAVEPOINT sp", R, "captured: mariadb-dump"),
    ("SHOW FULL TABLES", R, "captured: mariadb-dump"),
    (
        "SELECT engine, table_type FROM INFORMATION_SCHEMA.TABLES WHERE table_schema ="
        " DATABASE() AND table_name = 'customers'",
        R,
        "captured: mariadb-dump",
    ),
    ("SET SQL_QUOTE_SHOW_CREATE=1", R, "captured: mariadb-dump"),
    ("SET SESSION character_set_results = 'binary'", R, "captured: mariadb-dump"),
    ("show create table `customers`", R, "captured: mariadb-dump"),
    (
        "select column_name, extra, generation_expression, data_type from"
        " information_schema.columns where table_schema=database() and table_name='customers'"
        " order by ordinal_position",
        R,
        "captured: mariadb-dump",
    ),
    (
        "SELECT /*!40001 SQL_NO_CACHE */ `id`, `email`, `deleted_at` FROM `customers`",
        R,
        "captured: mariadb-dump (a version comment inside a read)",
    ),
    ("select @@collation_database", R, "captured: mariadb-dump"),
    (
        "SELECT TRIGGER_NAME FROM INFORMATION_SCHEMA.TRIGGERS WHERE EVENT_OBJECT_SCHEMA ="
        " DATABASE() AND EVENT_OBJECT_TABLE = 'customers'",
        R,
        "captured: mariadb-dump",
    ),
    ("ROLLBACK TO SAVEPOINT sp", R, "captured: mariadb-dump"),
    ("RELEASE SAVEPOINT sp", R, "captured: mariadb-dump"),
    # -- lines of the dump file mariadb-dump wrote (what a restore sends)
    (
        "/*M!999999\\- enable the sandbox mode */",
        R,
        "captured: dump file line 1, a comment on every real server (version 99.99.99)",
    ),
    (
        "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
        R,
        "captured: dump file",
    ),
    ("/*!40101 SET NAMES utf8mb4 */", R, "captured: dump file"),
    ("/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */", R, "captured: dump file"),
    (
        "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */",
        W,
        "captured: dump file; turning off foreign-key checks of the session's own writes",
    ),
    (
        "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */",
        W,
        "captured: dump file; turning off unique checks of the session's own writes",
    ),
    (
        "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */",
        R,
        "captured: dump file",
    ),
    ("/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */", R, "captured: dump file"),
    ("/*!40101 SET @saved_cs_client     = @@character_set_client */", R, "captured: dump file"),
    ("/*!40101 SET character_set_client = utf8mb4 */", R, "captured: dump file"),
    (
        "/*!40101 SET character_set_client = @saved_cs_client */",
        R,
        "captured: dump file; restoring a saved value (the engine reads the state back)",
    ),
    ("/*!40101 SET SQL_MODE=@OLD_SQL_MODE */", R, "captured: dump file; restoring a saved mode"),
    ("/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */", W, "captured: dump file"),
    (
        "/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */",
        R,
        "captured: dump file; restoring a saved value",
    ),
    ("/*!40000 ALTER TABLE `customers` ENABLE KEYS */", D, "captured: dump file"),
    ("/*!40000 ALTER TABLE `customers` DISABLE KEYS */", D, "captured: dump file"),
    ("LOCK TABLES `customers` WRITE", W, "captured: dump file"),
    ("DROP TABLE IF EXISTS `customers`", X, "captured: dump file"),
    # Later captures, MariaDB 10.11.19 on this machine, same method, only what the captures
    # above lack (the rest were the same statements, or the same for another table):
    # -- pymysql 1.2.4: connect(autocommit=True), begin(), commit (the rest as above)
    ("BEGIN", R, "captured: pymysql begin()"),
    # -- mysql-connector-python 26.10.0 (pure Python): connect, a query, commit
    (
        "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_general_ci'",
        R,
        "captured: mysql-connector-python connect",
    ),
    ("SET @@session.autocommit = OFF", R, "captured: mysql-connector-python connect"),
    ("SELECT @@session.sql_mode", R, "captured: mysql-connector-python connect"),
    # -- mariadb-dump 10.11.19, by default (LOCK TABLES) and with --single-transaction --routines
    # --events, of a database that also has a sequence, a view, a trigger, a function and a
    # procedure: its queries the capture above did not show
    (
        (
            "SELECT DISTINCT TABLESPACE_NAME, FILE_NAME, LOGFILE_GROUP_NAME, EXTENT_SIZE, "
            "INITIAL_SIZE, ENGINE FROM INFORMATION_SCHEMA.FILES WHERE FILE_TYPE = 'DATAFILE' "
            "AND TABLESPACE_NAME IN (SELECT DISTINCT TABLESPACE_NAME FROM "
            "INFORMATION_SCHEMA.PARTITIONS WHERE TABLE_SCHEMA IN ('corpus_capture_my')) ORDER "
            "BY TABLESPACE_NAME, LOGFILE_GROUP_NAME"
        ),
        R,
        "captured: mariadb-dump",
    ),
    (
        (
            "LOCK TABLES `customers` READ /*!32311 LOCAL */,`drop` READ /*!32311 LOCAL "
            "*/,`order_seq` READ /*!32311 LOCAL */,`orders` READ /*!32311 LOCAL */,`v_orders` "
            "READ /*!32311 LOCAL */"
        ),
        W,
        "captured: mariadb-dump; read locks the tables while it dumps them",
    ),
    ("SHOW CREATE SEQUENCE `order_seq`", R, "captured: mariadb-dump"),
    ("SELECT next_not_cached_value FROM `order_seq`", R, "captured: mariadb-dump"),
    ("SET SESSION character_set_results = 'utf8mb4'", R, "captured: mariadb-dump"),
    ("SELECT /*!40001 SQL_NO_CACHE */ `id`, `truncate` FROM `drop`", R, "captured: mariadb-dump"),
    ("SHOW FIELDS FROM `v_orders`", R, "captured: mariadb-dump"),
    (
        (
            "SELECT CHECK_OPTION, DEFINER, SECURITY_TYPE,        CHARACTER_SET_CLIENT, "
            "COLLATION_CONNECTION FROM information_schema.views WHERE table_name='v_orders' "
            "AND table_schema='corpus_capture_my'"
        ),
        R,
        "captured: mariadb-dump",
    ),
    ("SHOW CREATE TRIGGER `trg_orders_status`", R, "captured: mariadb-dump"),
    ("show events", R, "captured: mariadb-dump"),
    ("SHOW FUNCTION STATUS WHERE Db = 'corpus_capture_my'", R, "captured: mariadb-dump"),
    ("SHOW CREATE FUNCTION `f_double`", R, "captured: mariadb-dump"),
    ("SHOW PROCEDURE STATUS WHERE Db = 'corpus_capture_my'", R, "captured: mariadb-dump"),
    ("SHOW CREATE PROCEDURE `p_total`", R, "captured: mariadb-dump"),
    ("SHOW PACKAGE STATUS WHERE Db = 'corpus_capture_my'", R, "captured: mariadb-dump"),
    ("SHOW PACKAGE BODY STATUS WHERE Db = 'corpus_capture_my'", R, "captured: mariadb-dump"),
    # -- restoring that dump through the mariadb CLI 10.11.19 (`mariadb db < dump.sql`), as
    # the CLI sends it: the -- comments stripped, the sandbox-mode line's \- run by the CLI
    # itself and the rest of its comment sent with the next statement.
    (
        "/*!50001 CREATE ALGORITHM=UNDEFINED */\n/*!50013 DEFINER=`root`@`localhost` SQL"
        " SECURITY DEFINER */\n/*!50001 VIEW `v_orders` AS select `orders`.`id` AS `id`,"
        "`orders`.`total` AS `total` from `orders` */",
        A,
        "captured: restoring a mariadb-dump file (a view with a DEFINER runs as that user)",
    ),
    (
        (
            "/*M!999999 enable the sandbox mode */ \n\n\n\n\n\n\n"
            "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */"
        ),
        R,
        "captured: restore",
    ),
    ("/*!40101 SET @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS */", R, "captured: restore"),
    ("/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */", R, "captured: restore"),
    ("DROP SEQUENCE IF EXISTS `order_seq`", X, "captured: restore"),
    (
        (
            "CREATE SEQUENCE `order_seq` start with 1 minvalue 1 maxvalue 9223372036854775806 "
            "increment by 1 cache 1000 nocycle ENGINE=InnoDB"
        ),
        D,
        "captured: restore",
    ),
    ("DO SETVAL(`order_seq`, 1, 0)", W, "captured: restore"),
    (
        (
            "CREATE TABLE `customers` (\n"
            "  `id` int(11) NOT NULL,\n"
            "  `email` varchar(100) NOT NULL,\n"
            "  `deleted_at` datetime DEFAULT NULL,\n"
            "  `drop_count` int(11) NOT NULL DEFAULT 0,\n"
            "  `delete` int(11) NOT NULL DEFAULT 0,\n"
            "  PRIMARY KEY (`id`)\n"
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
        ),
        D,
        "captured: restore",
    ),
    (
        (
            "INSERT INTO `customers` VALUES\n"
            "(1,'a@example.com',NULL,0,0),\n"
            "(2,'b@example.com',NULL,0,0)"
        ),
        W,
        "captured: restore",
    ),
    (
        (
            "CREATE TABLE `orders` (\n"
            "  `id` int(11) NOT NULL,\n"
            "  `customer_id` int(11) NOT NULL,\n"
            "  `total` decimal(10,2) NOT NULL DEFAULT 0.00,\n"
            "  `note` text DEFAULT NULL,\n"
            "  `status` varchar(20) DEFAULT NULL,\n"
            "  PRIMARY KEY (`id`),\n"
            "  KEY `idx_customer` (`customer_id`),\n"
            "  CONSTRAINT `fk_customer` FOREIGN KEY (`customer_id`) REFERENCES `customers` "
            "(`id`)\n"
            ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
        ),
        D,
        "captured: restore",
    ),
    (
        "INSERT INTO `orders` VALUES\n(1,1,10.00,'first','new'),\n(2,2,20.00,NULL,'paid')",
        W,
        "captured: restore",
    ),
    ("/*!50003 SET @saved_cs_client      = @@character_set_client */", R, "captured: restore"),
    ("/*!50003 SET @saved_cs_results     = @@character_set_results */", R, "captured: restore"),
    ("/*!50003 SET @saved_col_connection = @@collation_connection */", R, "captured: restore"),
    ("/*!50003 SET character_set_client  = utf8mb3 */", R, "captured: restore"),
    ("/*!50003 SET character_set_results = utf8mb3 */", R, "captured: restore"),
    ("/*!50003 SET collation_connection  = utf8mb3_general_ci */", R, "captured: restore"),
    ("/*!50003 SET @saved_sql_mode       = @@sql_mode */", R, "captured: restore"),
    (
        (
            "/*!50003 SET sql_mode              = "
            "'STRICT_TRANS_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_CREATE_USER,"
            "NO_ENGINE_SUBSTITUTION' */"
        ),
        R,
        "captured: restore",
    ),
    (
        (
            "/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`localhost`*/ /*!50003 TRIGGER "
            "trg_orders_status BEFORE INSERT ON orders FOR EACH ROW SET NEW.status = "
            "COALESCE(NEW.status, 'new') \n"
            "*/"
        ),
        A,
        "captured: restore",
    ),
    ("/*!50003 SET sql_mode              = @saved_sql_mode */", R, "captured: restore"),
    ("/*!50003 SET character_set_client  = @saved_cs_client */", R, "captured: restore"),
    ("/*!50003 SET character_set_results = @saved_cs_results */", R, "captured: restore"),
    ("/*!50003 SET collation_connection  = @saved_col_connection */", R, "captured: restore"),
    ("/*!50001 DROP VIEW IF EXISTS `v_orders`*/", X, "captured: restore"),
    ("SET @saved_cs_client     = @@character_set_client", R, "captured: restore"),
    ("SET character_set_client = utf8mb4", R, "captured: restore"),
    (
        "/*!50001 CREATE VIEW `v_orders` AS SELECT\n NULL AS `id`,\n NULL AS `total` */",
        D,
        "captured: restore",
    ),
    ("SET character_set_client = @saved_cs_client", R, "captured: restore"),
    ("/*!50003 DROP FUNCTION IF EXISTS `f_double` */", X, "captured: restore"),
    (
        (
            "CREATE DEFINER=`root`@`localhost` FUNCTION `f_double`(x INT) RETURNS int(11)\n"
            "    DETERMINISTIC\n"
            "RETURN x * 2"
        ),
        A,
        "captured: restore",
    ),
    ("/*!50003 DROP PROCEDURE IF EXISTS `p_total` */", X, "captured: restore"),
    (
        "CREATE DEFINER=`root`@`localhost` PROCEDURE `p_total`()\nSELECT SUM(total) FROM orders",
        A,
        "captured: restore",
    ),
    ("/*!50001 SET @saved_cs_client          = @@character_set_client */", R, "captured: restore"),
    ("/*!50001 SET @saved_cs_results         = @@character_set_results */", R, "captured: restore"),
    ("/*!50001 SET @saved_col_connection     = @@collation_connection */", R, "captured: restore"),
    ("/*!50001 SET character_set_client      = utf8mb3 */", R, "captured: restore"),
    ("/*!50001 SET character_set_results     = utf8mb3 */", R, "captured: restore"),
    ("/*!50001 SET collation_connection      = utf8mb3_general_ci */", R, "captured: restore"),
    ("/*!50001 SET character_set_client      = @saved_cs_client */", R, "captured: restore"),
    ("/*!50001 SET character_set_results     = @saved_cs_results */", R, "captured: restore"),
    ("/*!50001 SET collation_connection      = @saved_col_connection */", R, "captured: restore"),
    ("/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */", R, "captured: restore"),
    ("/*!40014 SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS */", W, "captured: restore"),
    ("/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */", R, "captured: restore"),
    ("/*!40101 SET CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS */", R, "captured: restore"),
    ("/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */", R, "captured: restore"),
]

SCARY_READS: list[tuple[str, str, str]] = [
    ("SELECT 'DROP TABLE orders; DELETE FROM orders'", R, "danger words in a string"),
    ('SELECT "DELETE FROM customers"', R, "double quotes are a string without ANSI_QUOTES"),
    ("SELECT 'it''s; DROP TABLE orders'", R, "doubled quote inside a string"),
    ("SELECT 'a\\'; DROP TABLE orders; -- '", R, "backslash-escaped quote keeps the string open"),
    ("SELECT deleted_at, drop_count FROM customers WHERE deleted_at IS NULL", R, "column names"),
    ("SELECT `delete`, drop_count FROM customers", R, "a backtick column named delete"),
    ("SELECT * FROM `drop` WHERE `truncate` = 'yes'", R, "backtick table and column"),
    ("SELECT id FROM orders -- ; DROP TABLE orders", R, "dash-dash comment"),
    ("SELECT id FROM orders # ; DELETE FROM orders", R, "hash comment"),
    ("SELECT /* DROP TABLE orders; */ id FROM orders", R, "block comment"),
    ("SELECT 1 /* ; GRANT ALL ON *.* TO x */", R, "GRANT inside a comment"),
    ("SELECT note FROM orders WHERE note LIKE '%DROP DATABASE%'", R, "LIKE pattern"),
    ("SELECT COUNT(*) AS shutdown_count FROM orders", R, "alias with a danger word"),
    ("SELECT id AS `kill`, total AS `grant` FROM orders", R, "quoted aliases"),
    ("SELECT status FROM orders WHERE status IN ('delete', 'truncate', 'drop')", R, "IN list"),
    ("SELECT REPLACE(note, 'DROP', 'x') FROM orders", R, "REPLACE() the function"),
    ("SELECT INSERT('drop table', 1, 4, 'keep')", R, "INSERT() the function"),
    ("SELECT IF(total > 10, 'update', 'delete') FROM orders", R, "IF() with danger words"),
    ("SELECT CONCAT('SHUTDOWN', ';', 'KILL 1')", R, "admin words in strings"),
    ("SELECT 'LOAD_FILE(''/etc/passwd'')'", R, "a dangerous call inside a string"),
    ("SELECT _utf8mb4'DROP TABLE t' COLLATE utf8mb4_bin", R, "introducer and collation"),
    ("SELECT X'44524F50', 0x44524F50, b'0101'", R, "hex and bit literals"),
    ("SELECT N'DELETE'", R, "national string"),
    ("SELECT 1;;", R, "empty statements after a read"),
    ("select id from orders where id = 1 -- trailing comment", R, "lower case and comment"),
    (
        "SELECT customers.email FROM customers WHERE customers.id IN (SELECT customer_id FROM"
        " orders WHERE total > 100)",
        R,
        "subquery",
    ),
    ("WITH recent AS (SELECT * FROM orders WHERE id > 5) SELECT COUNT(*) FROM recent", R, "CTE"),
    (
        "SELECT ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY total DESC) AS rn FROM orders",
        R,
        "window function",
    ),
    ("EXPLAIN DELETE FROM orders", R, "EXPLAIN only plans"),
    ("EXPLAIN UPDATE customers SET email = 'x'", R, "EXPLAIN only plans"),
    ("EXPLAIN FORMAT=JSON SELECT * FROM orders", R, "EXPLAIN FORMAT=JSON"),
    ("DESCRIBE `drop`", R, "describe a table named drop"),
    ("SHOW COLUMNS FROM customers LIKE 'delete%'", R, "SHOW with LIKE"),
    ("SHOW VARIABLES LIKE 'sql_log_bin'", R, "reading a setting"),
    ("SHOW GRANTS", R, "SHOW GRANTS reads"),
    ("SHOW PROCESSLIST", R, "SHOW PROCESSLIST reads"),
    ("SELECT JSON_EXTRACT('{\"drop\": 1}', '$.drop')", R, "JSON with danger words"),
    ("SELECT SLEEP(0)", R, "SLEEP waits, changes nothing"),
    ("SELECT BENCHMARK(10, MD5('x'))", R, "BENCHMARK only burns CPU"),
    ("SELECT RELEASE_LOCK('iap')", R, "releasing an own named lock"),
    ("DO 1", R, "DO of a literal"),
    ("SELECT LASTVAL(order_seq)", R, "this session's last sequence value"),
    ("SELECT * FROM orders LIMIT 0", R, "LIMIT 0"),
    ("SELECT @@global.max_connections, @@session.tx_isolation", R, "reading variables"),
    ("SET @drop = 'DROP TABLE orders'", R, "user variable holding danger words"),
    ("SET @a = 1, @b := 'x'", R, "user variables"),
    ("SET time_zone = '+00:00'", R, "harmless session setting"),
    ("SET character_set_results = NULL", R, "results charset only"),
    ("SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci", R, "SET NAMES with COLLATE"),
    ("SET SESSION sql_mode = 'STRICT_TRANS_TABLES,NO_ZERO_DATE'", R, "safe sql_mode flags"),
    ("SET autocommit = 1", R, "autocommit"),
    ("SET foreign_key_checks = 1", R, "turning checks on"),
    ("BEGIN; SELECT 1; COMMIT", R, "transaction around a read"),
    ("USE mysql", R, "USE"),
    ("PREPARE s FROM 'SELECT * FROM orders WHERE id = ?'", R, "preparing a read"),
    ("SELECT (SELECT MAX(total) FROM orders) AS m", R, "scalar subquery"),
    ("SELECT id FROM orders LIMIT 1 INTO @last_id", R, "INTO a user variable"),
    ("HANDLER customers OPEN", R, "HANDLER OPEN"),
    ("CHECKSUM TABLE orders", R, "CHECKSUM only reads"),
    ('SELECT * FROM orders WHERE note = "it\'s DROP"', R, "double-quoted string value"),
    ("SELECT 1 FROM dual WHERE 'sleep' = 'sleep'", R, "danger word comparison"),
    ("SELECT {fn NOW()}", R, "ODBC escape: MySQL reads {fn expr} as expr"),
    (
        "SET @@SESSION.sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES'),"
        " @@SESSION.sql_auto_is_null = 0, @@SESSION.wait_timeout = 2147483",
        R,
        "Rails' mysql2 adapter at connect (strict: true), as its source writes it",
    ),
    (
        "SET @@SESSION.sql_mode = REPLACE(REPLACE(REPLACE(@@sql_mode, 'STRICT_TRANS_TABLES', ''),"
        " 'STRICT_ALL_TABLES', ''), 'TRADITIONAL', ''), @@SESSION.sql_auto_is_null = 0",
        R,
        "Rails' mysql2 adapter at connect (strict: false): removing whole flags",
    ),
    ("SELECT COUNT(*), MAX(total), SUBSTRING(note, 1, 2) FROM orders", R, "built-ins as name("),
]

WRITES: list[tuple[str, str, str]] = [
    ("SET foreign_key_checks = 0", W, "turns off foreign-key checks of the session's writes"),
    ("SET unique_checks = 0", W, "turns off unique checks of the session's writes"),
    ("INSERT INTO orders (id, customer_id, total) VALUES (100, 1, 9.99)", W, "INSERT"),
    (
        "INSERT INTO orders VALUES (101, 1, 5, 'x', 'new') ON DUPLICATE KEY UPDATE total ="
        " VALUES(total)",
        W,
        "upsert",
    ),
    ("INSERT IGNORE INTO customers SET id = 50, email = 'z@example.com'", W, "INSERT ... SET"),
    ("REPLACE INTO customers (id, email) VALUES (2, 'b@example.com')", W, "REPLACE"),
    (
        "INSERT INTO orders (id, customer_id, total) SELECT id + 1000, customer_id, total FROM"
        " orders WHERE id < 3",
        W,
        "INSERT ... SELECT",
    ),
    ("UPDATE orders SET total = total + 1 WHERE id = 3", W, "bounded UPDATE"),
    ("UPDATE orders SET status = 'shipped' WHERE customer_id = 2 AND total > 0", W, "AND"),
    (
        "UPDATE orders o JOIN customers c ON c.id = o.customer_id SET o.status = 'vip' WHERE"
        " c.email LIKE 'a%'",
        W,
        "multi-table UPDATE",
    ),
    ("DELETE FROM orders WHERE id = 4", W, "bounded DELETE"),
    ("DELETE FROM orders WHERE id IN (5, 6) LIMIT 2", W, "IN list with LIMIT"),
    ("DELETE o FROM orders o JOIN customers c ON c.id = o.customer_id WHERE c.id = 1", W, "join"),
    ("SELECT * FROM orders WHERE id = 1 FOR UPDATE", W, "row locks"),
    ("SELECT * FROM orders WHERE id = 1 LOCK IN SHARE MODE", W, "row locks"),
    ("LOCK TABLES orders READ", W, "table locks"),
    ("SELECT GET_LOCK('iap', 0)", W, "named lock"),
    ("DO GET_LOCK('iap', 0)", W, "DO with a lock"),
    ("SELECT NEXTVAL(order_seq)", W, "advances a sequence"),
    ("SELECT NEXT VALUE FOR order_seq", W, "advances a sequence"),
    ("SELECT SETVAL(order_seq, 100)", W, "sets a sequence"),
    ("BEGIN; UPDATE orders SET total = 0 WHERE id = 1; ROLLBACK", W, "wrapper keeps the class"),
    (
        "INSERT INTO orders (id, customer_id) VALUES (102, 1); SELECT LAST_INSERT_ID()",
        W,
        "multi-statement",
    ),
    ("UPDATE orders SET note = 'DROP TABLE orders' WHERE id = 2", W, "danger words as data"),
    ("DELETE FROM orders WHERE 1 = 0", W, "always-false WHERE changes nothing"),
    ("UPDATE customers SET deleted_at = NOW() WHERE id = 3", W, "soft delete"),
    (
        "PREPARE s FROM 'DELETE FROM orders WHERE id = ?'; SET @id = 7; EXECUTE s USING @id",
        W,
        "prepared bounded DELETE",
    ),
    ("ANALYZE DELETE FROM orders WHERE id = 7", W, "MariaDB's ANALYZE runs the statement"),
    ("SET STATEMENT max_statement_time = 10 FOR UPDATE orders SET total = 1 WHERE id = 8", W, ""),
    ("UPDATE `drop` SET `truncate` = 'no' WHERE id = 1", W, "scary names, bounded"),
    ("DELETE FROM orders WHERE id = 9 AND @iap_flag", W, "one bounding conjunct suffices"),
    ("UPDATE orders SET total = 0 WHERE status IS NOT NULL AND id = 2", W, "bounded by id"),
    ("XA PREPARE 'xid1'", W, "keeps a transaction and its locks"),
]

DDLS: list[tuple[str, str, str]] = [
    ("CREATE TABLE t_new (id INT PRIMARY KEY, name VARCHAR(20))", D, "CREATE TABLE"),
    ("CREATE TABLE IF NOT EXISTS t_copy LIKE orders", D, "CREATE TABLE LIKE"),
    ("CREATE TABLE t_sel AS SELECT id, total FROM orders WHERE total > 5", D, "CREATE AS SELECT"),
    ("CREATE TEMPORARY TABLE tmp_x (a INT)", D, "temporary table"),
    ("CREATE INDEX idx_total ON orders (total)", D, "CREATE INDEX"),
    ("CREATE UNIQUE INDEX idx_email2 ON customers (email)", D, "unique index"),
    ("CREATE VIEW v_orders AS SELECT id, total FROM orders", D, "CREATE VIEW"),
    ("CREATE OR REPLACE VIEW v_orders AS SELECT id FROM orders", D, "views hold no data"),
    ("CREATE DATABASE iap_truth_other", D, "CREATE DATABASE"),
    ("CREATE SEQUENCE s2", D, "CREATE SEQUENCE"),
    ("ALTER TABLE orders ADD COLUMN shipped_at DATETIME NULL", D, "ADD COLUMN"),
    ("ALTER TABLE orders ADD INDEX idx_status (status)", D, "ADD INDEX"),
    ("ALTER TABLE orders MODIFY note VARCHAR(500)", D, "MODIFY"),
    ("ALTER TABLE orders RENAME COLUMN note TO comment", D, "RENAME COLUMN"),
    ("ALTER TABLE orders DROP INDEX idx_customer", D, "dropping an index keeps the rows"),
    ("RENAME TABLE orders TO orders_old", D, "RENAME TABLE"),
    ("ANALYZE TABLE orders", D, "maintenance"),
    ("OPTIMIZE TABLE orders", D, "maintenance"),
    ("REPAIR TABLE orders", D, "maintenance"),
    ("CHECK TABLE orders", D, "maintenance"),
    ("CREATE PROCEDURE p_total() SELECT SUM(total) FROM orders", D, "a procedure runs nothing"),
    (
        "CREATE FUNCTION f_double(x INT) RETURNS INT DETERMINISTIC RETURN x * 2",
        D,
        "a stored function runs nothing until called (and calls of it are unknown)",
    ),
    (
        "CREATE PROCEDURE p_clean() BEGIN DELETE FROM orders WHERE id = 1; SELECT 1; END",
        D,
        "BEGIN ... END body with semicolons",
    ),
    (
        "ALTER TABLE orders ADD COLUMN total2 DECIMAL(10,2) AS (total * 2) VIRTUAL",
        D,
        "generated column",
    ),
    ("CREATE TABLE t_def (id INT, u VARCHAR(36) DEFAULT (UUID()))", D, "default expression"),
    ("ALTER TABLE orders COMMENT = 'DROP later'", D, "comment with danger words"),
    ("ALTER TABLE customers ADD CONSTRAINT chk_email CHECK (email <> '')", D, "CHECK"),
    ("ALTER SEQUENCE order_seq RESTART WITH 10", D, "ALTER SEQUENCE"),
]

DESTRUCTIVES: list[tuple[str, str, str]] = [
    ("DROP TABLE orders", X, "DROP TABLE"),
    ("DROP TABLE IF EXISTS `drop`, customers", X, "several tables"),
    ("DROP VIEW IF EXISTS v_missing", X, "DROP VIEW"),
    ("DROP DATABASE IF EXISTS iap_truth_gone", X, "DROP DATABASE"),
    ("DROP INDEX idx_customer ON orders", X, "every DROP is destructive"),
    ("DROP SEQUENCE order_seq", X, "DROP SEQUENCE"),
    ("TRUNCATE TABLE orders", X, "TRUNCATE"),
    ("TRUNCATE orders", X, "TRUNCATE without TABLE"),
    ("DELETE FROM orders", X, "no WHERE"),
    ("DELETE FROM orders WHERE 1", X, "WHERE 1"),
    ("DELETE FROM orders WHERE 1 = 1", X, "WHERE 1=1"),
    ("DELETE FROM orders WHERE true", X, "WHERE true"),
    ("DELETE FROM orders WHERE id = id", X, "WHERE id = id"),
    ("UPDATE orders SET total = 0", X, "UPDATE without WHERE"),
    ("UPDATE orders SET total = 0 WHERE id = 5 OR 1", X, "OR 1"),
    ("UPDATE orders SET total = 0 LIMIT 3", X, "LIMIT only"),
    ("DELETE FROM orders ORDER BY id LIMIT 2", X, "LIMIT only"),
    ("UPDATE orders SET status = 'x' WHERE 'a' = 'a'", X, "string tautology"),
    ("DELETE FROM orders WHERE NOT 0", X, "NOT 0"),
    ("DELETE FROM orders WHERE 2 > 1", X, "constant comparison"),
    ("DELETE FROM orders WHERE id <=> id", X, "null-safe self comparison"),
    ("UPDATE orders SET total = 1 WHERE '1abc'", X, "a string MySQL reads as 1"),
    ("ALTER TABLE orders DROP COLUMN note", X, "DROP COLUMN"),
    ("ALTER TABLE orders DROP note", X, "DROP without COLUMN"),
    ("ALTER TABLE customers ENGINE = BLACKHOLE", X, "BLACKHOLE discards every row"),
    ("CREATE OR REPLACE TABLE orders (id INT)", X, "drops the existing table"),
    (
        "DELETE FROM orders WHERE EXISTS (SELECT 1 FROM customers WHERE customers.id = 1)",
        X,
        "the WHERE does not depend on the rows of orders",
    ),
    ("BEGIN; DROP TABLE orders; ROLLBACK", X, "DDL commits: the wrapper does not help"),
    ("SELECT 1; DROP TABLE orders", X, "multi-statement"),
    ("CREATE PROCEDURE p_wipe() DELETE FROM orders", X, "its body empties a table"),
    ("/*! DROP TABLE orders */", X, "executable comment without a version"),
    ("DELETE FROM orders /*!99999 WHERE id = 1 */", X, "a gated WHERE MariaDB skips"),
    ("PREPARE s FROM 'DROP TABLE orders'; EXECUTE s", X, "prepared DROP"),
    ("EXECUTE IMMEDIATE 'TRUNCATE TABLE orders'", X, "EXECUTE IMMEDIATE"),
    ("ANALYZE DELETE FROM orders", X, "MariaDB's ANALYZE runs the DELETE"),
    ("SET STATEMENT max_statement_time = 10 FOR DELETE FROM orders", X, "SET STATEMENT"),
    ("DELETE FROM orders WHERE id = 1; DELETE FROM customers", X, "second statement unbounded"),
    ("ALTER TABLE orders TRUNCATE PARTITION p0", X, "TRUNCATE PARTITION"),
    ("DROP PROCEDURE IF EXISTS p_missing", X, "DROP PROCEDURE"),
    ("SeLeCt 1;dRoP/**/TABLE`orders`", X, "case and comment tricks"),
    ("DELETE FROM orders WHERE '\x0c1'", X, "the server skips a form feed before a number"),
    ("DELETE FROM orders WHERE id = 5 OR @iap_flag", X, "a user variable may be 1"),
    ("UPDATE orders SET total = 0 WHERE note IS NOT NULL OR note IS NULL", X, "every row"),
    ("DELETE FROM orders WHERE status LIKE '%'", X, "LIKE '%' matches every value"),
    (
        "DELETE FROM orders WHERE id NOT IN (SELECT id FROM customers WHERE id > 99)",
        X,
        "NOT IN of a subquery that returns no rows",
    ),
    (
        "CREATE PROCEDURE p_where(x INT) DELETE FROM orders WHERE id = 1 OR x",
        X,
        "a parameter may be true",
    ),
]

ADMINS: list[tuple[str, str, str]] = [
    ("CREATE USER 'iap_truth_u'@'localhost' IDENTIFIED BY 'pw'", A, "CREATE USER"),
    ("DROP USER IF EXISTS 'iap_truth_nobody'@'localhost'", A, "DROP USER"),
    ("CREATE ROLE iap_truth_role", A, "CREATE ROLE"),
    ("GRANT SELECT ON iap_truth.* TO 'iap_truth_nobody'@'localhost'", A, "GRANT"),
    ("REVOKE ALL PRIVILEGES ON iap_truth.* FROM 'iap_truth_nobody'@'localhost'", A, "REVOKE"),
    ("SET PASSWORD FOR 'iap_truth_nobody'@'localhost' = PASSWORD('x')", A, "SET PASSWORD"),
    ("SET ROLE NONE", A, "changes who the session is"),
    ("SET GLOBAL max_connections = 500", A, "global setting"),
    ("SET @@global.general_log = 1", A, "global setting via @@global"),
    ("SET PERSIST max_connections = 500", A, "MySQL 8 persisted setting"),
    ("SET sql_log_bin = 0", A, "what is logged"),
    ("SET SESSION sql_log_off = 1", A, "what is logged"),
    (
        "CREATE PROCEDURE p_if() BEGIN IF 1 THEN DELETE FROM orders WHERE id = 1; END IF; END",
        A,
        "a body with control flow the gateway does not follow",
    ),
    ("SET sql_mode = 'ANSI_QUOTES'", A, "moves the lexer"),
    ("SET sql_mode = concat(@@sql_mode, ',NO_BACKSLASH_ESCAPES')", A, "moves the lexer"),
    ("SET NAMES sjis", A, "unsafe multibyte charset"),
    ("SET NAMES gbk", A, "unsafe multibyte charset"),
    ("SET character_set_client = big5", A, "unsafe multibyte charset"),
    ("SET CHARACTER SET cp932", A, "unsafe multibyte charset"),
    ("SET autocommit = 1, GLOBAL max_connections = 10", A, "a global in a list"),
    ("KILL 999999", A, "KILL"),
    ("KILL QUERY 1", A, "KILL QUERY"),
    ("SHUTDOWN", A, "SHUTDOWN"),
    ("FLUSH PRIVILEGES", A, "FLUSH"),
    ("FLUSH TABLES WITH READ LOCK", A, "FLUSH"),
    ("RESET MASTER", A, "RESET MASTER"),
    ("PURGE BINARY LOGS BEFORE NOW()", A, "PURGE"),
    ("CHANGE MASTER TO MASTER_HOST='evil.example'", A, "replication"),
    ("START SLAVE", A, "replication"),
    ("STOP SLAVE", A, "replication"),
    ("INSTALL SONAME 'ha_connect'", A, "loads a plugin"),
    ("UNINSTALL PLUGIN server_audit", A, "unloads a plugin"),
    ("LOAD DATA INFILE '/etc/passwd' INTO TABLE orders", A, "server file"),
    ("LOAD DATA LOCAL INFILE '/tmp/x.csv' INTO TABLE orders", A, "client file"),
    ("SELECT * FROM orders INTO OUTFILE '/tmp/iap_out.csv'", A, "writes a server file"),
    ("SELECT note FROM orders LIMIT 1 INTO DUMPFILE '/tmp/iap_dump'", A, "writes a server file"),
    ("SELECT LOAD_FILE('/etc/hostname')", A, "reads a server file"),
    (
        "CREATE FUNCTION sys_exec RETURNS INTEGER SONAME 'lib_mysqludf_sys.so'",
        A,
        "loads a shared library",
    ),
    (
        "CREATE TRIGGER trg_orders BEFORE INSERT ON orders FOR EACH ROW SET NEW.total = 0",
        A,
        "runs code with other sessions' writes",
    ),
    (
        "CREATE EVENT ev_purge ON SCHEDULE EVERY 1 DAY DO DELETE FROM orders",
        A,
        "runs code on a schedule",
    ),
    ("CREATE DEFINER = `root`@`localhost` VIEW v_def AS SELECT 1", A, "runs as another user"),
    ("CALL p_unknown()", A, "CALL of a procedure nobody listed"),
    ("BEGIN NOT ATOMIC DELETE FROM orders WHERE id = 1; END", A, "anonymous block"),
    (
        "CREATE TABLE t_conn (a INT) ENGINE=CONNECT TABLE_TYPE=DOS FILE_NAME='/etc/passwd'",
        A,
        "CONNECT engine reads server files",
    ),
    ("CREATE TABLE t_dir (a INT) DATA DIRECTORY = '/tmp'", A, "files outside the datadir"),
    ("XA COMMIT 'xid-of-someone'", A, "may end another session's transaction"),
    ("BINLOG 'AAAA'", A, "replays binlog events"),
    ("ALTER USER 'iap_truth_nobody'@'localhost' ACCOUNT LOCK", A, "ALTER USER"),
    ("SET GLOBAL TRANSACTION ISOLATION LEVEL SERIALIZABLE", A, "global transaction default"),
    ("CREATE PROCEDURE lower(x INT) SELECT x", A, "shadows a built-in name"),
    ("SET @@session.pseudo_thread_id = 1", A, "pretends to be another session"),
    (
        "SET sql_mode = REPLACE(REPLACE(REPLACE(@@sql_mode, 'STRICT_TR', ''),"
        " '_TABLES,ERROR_FOR_DIV', ''), 'SION_BY_ZERO,NO_AUTO_CREATE_USER,NO_ENGINE_SUBSTITUTION',"
        " '')",
        A,
        "what is left of the safe flags once fragments are removed spells ANSI",
    ),
    ("SET sql_mode = CONCAT(@@sql_mode, ',ANSTRADITIONALI')", A, "a fragment, not a flag"),
    ("SET sql_mode = CONCAT(@@global.sql_mode, ',NO_ZERO_DATE')", A, "the global mode's flags"),
]

UNKNOWNS: list[tuple[str, str, str]] = [
    ("SELECT 1 /*!50000 ; DROP TABLE orders */", U, "a ; inside an executable comment"),
    ("SELECT 1 /*!99999 ; DROP TABLE orders */", U, "a ; in a comment a MySQL 9 server runs"),
    ("SELECT 1 /*M!100100 ; DROP TABLE orders */", U, "a ; in a MariaDB executable comment"),
    ("SELECT my_cleanup(1)", U, "unknown function"),
    ("SELECT sys_exec('id')", U, "sys_exec-style UDF"),
    ("SELECT sys_eval('id')", U, "sys_eval-style UDF"),
    ("SELECT iap_truth.f_double(2)", U, "qualified: a stored function"),
    ("SELECT mysql.upper('a')", U, "a qualified built-in name is a stored function"),
    ("DO my_udf()", U, "unknown function in DO"),
    ("SET @a = my_udf()", U, "unknown function in SET"),
    ("UPDATE orders SET total = my_udf(total) WHERE id = 1", U, "unknown function in UPDATE"),
    ("DELIMITER //", U, "a mysql client command"),
    ("SELECT 'unterminated", U, "unterminated string"),
    ("SELECT 1 /* unterminated", U, "unterminated comment"),
    ("SELECT 1 /*!50000 unterminated", U, "unterminated executable comment"),
    ("SELECT 1 /*!500001 , 2 */", U, "6-digit version: MySQL and MariaDB disagree"),
    ("SELECT {fn my_udf()}", U, "an ODBC escape around an unknown function"),
    ("FOO BAR", U, "not SQL"),
    ("SELECT a FROM orders INTO local_var", U, "INTO a local variable"),
    ("EXECUTE s_never_prepared", U, "EXECUTE of an unknown name"),
    ("PREPARE s FROM @sql; EXECUTE s", U, "prepared from a variable"),
    ("EXECUTE IMMEDIATE CONCAT('DROP ', 'TABLE orders')", U, "dynamic SQL from an expression"),
    ("CREATE PROCEDURE p_open() BEGIN SELECT 1;", U, "unclosed block"),
    ("SELECT 1 \\G", U, "a client command"),
    ("SELECT 1 /*+ SET_VAR(foreign_key_checks=OFF) */", U, "optimizer hint changes settings"),
    ("HANDLER orders READ `PRIMARY` FIRST WHERE my_udf(id)", U, "unknown function in HANDLER"),
    ("SELECT 'a' \x00", U, "NUL character"),
    ("SHOW TABLES WHERE my_udf(1)", U, "unknown function in SHOW"),
    ("SELECT now ()", U, "a space before ( makes NOW the name of a stored function"),
    ("SELECT SUM/**/(total) FROM orders", U, "a comment before ( counts as a space"),
    ("SELECT `count`(id) FROM orders", U, "a quoted built-in name may be a stored function"),
    ("SET @started = now ()", U, "a stored function named now in SET"),
]

CASES: list[tuple[str, str, str]] = (
    CAPTURED + SCARY_READS + WRITES + DDLS + DESTRUCTIVES + ADMINS + UNKNOWNS
)
