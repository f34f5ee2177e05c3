"""What calling a MySQL/MariaDB function does: the curated lists, from the servers' manuals.

Owns the answer to "what class is a call of name() or db.name()": reads for the built-ins
free of side effects (string, numeric, date, JSON, spatial, aggregate, window, information
functions such as DATABASE(), VERSION(), USER(), CONNECTION_ID(), LAST_INSERT_ID()), curated
write and admin lists for built-ins with effects outside the statement (GET_LOCK, NEXTVAL,
SETVAL, LOAD_FILE), and unknown for everything else: a user-defined function (UDF, stored
function, sys_exec-style library) can do anything, unless the operator vouched for its name.

A name on these lists is a built-in on MariaDB 10.x/11.x or MySQL 5.7/8.x. A name native on
only one family could be a stored function on the other, so CREATE FUNCTION/PROCEDURE of any
listed name is admin (the classifier's job): nobody can shadow a built-in through the gateway.
How a call is written matters too: a quoted name (`now`()) and, for the built-ins the server's
lexer knows only as a bare name followed at once by "(", a space or comment before the
parenthesis (now ()) make the server call a stored function of that name instead: unknown.
Must never do I/O, never guess: a name on no list is unknown.
"""

from __future__ import annotations

from iap.classify.types import Risk

_STRING = """
ascii bin bit_length char char_length character_length chr concat concat_ws elt export_set
extractvalue field find_in_set format from_base64 hex insert instr lcase left length lengthb
locate lower lpad ltrim make_set mid natural_sort_key octet_length ord position quote
regexp_instr regexp_like regexp_replace regexp_substr repeat replace reverse right rpad rtrim
sformat soundex space strcmp substr substring substring_index to_base64 to_char trim
trim_oracle ucase unhex updatexml upper weight_string convert cast collation charset
coercibility decode_oracle match
"""
_NUMERIC = """
abs acos asin atan atan2 ceil ceiling conv cos cot crc32 crc32c degrees exp floor ln log log10
log2 mod oct pi pow power radians rand round sign sin sqrt tan to_number truncate
format_bytes format_pico_time
"""
_DATE = """
adddate addtime add_months convert_tz curdate current_date current_time current_timestamp
curtime date datediff date_add date_format date_sub day dayname dayofmonth dayofweek dayofyear
extract from_days from_unixtime get_format hour last_day localtime localtimestamp makedate
maketime microsecond minute month monthname months_between now period_add period_diff quarter
second sec_to_time str_to_date subdate subtime sysdate time timediff timestamp timestampadd
timestampdiff time_format time_to_sec to_date to_days to_seconds trunc unix_timestamp utc_date
utc_time utc_timestamp week weekday weekofyear year yearweek
"""
_CONTROL = "if ifnull nullif nvl nvl2 coalesce greatest least isnull interval"
_AGGREGATE_WINDOW = """
avg bit_and bit_or bit_xor bit_count count group_concat max min std stddev stddev_pop
stddev_samp sum variance var_pop var_samp json_arrayagg json_objectagg any_value grouping
percentile_cont percentile_disc median row_number rank dense_rank percent_rank cume_dist ntile
lag lead first_value last_value nth_value
"""
_INFORMATION = """
binlog_gtid_pos connection_id current_role current_user database schema decode_histogram
default found_rows last_insert_id rownum row_count session_user system_user user version
icu_version roles_graphml statement_digest statement_digest_text ps_current_thread_id
ps_thread_id values value
"""
_MISC = """
inet_aton inet_ntoa inet6_aton inet6_ntoa is_ipv4 is_ipv4_compat is_ipv4_mapped is_ipv6 is_uuid
name_const sys_guid uuid uuid_short uuid_v4 uuid_v7 uuid_to_bin bin_to_uuid gtid_subset
gtid_subtract wsrep_last_seen_gtid wsrep_last_written_gtid
aes_decrypt aes_encrypt compress decode des_decrypt des_encrypt encode encrypt md5
old_password password random_bytes sha sha1 sha2 uncompress uncompressed_length kdf
validate_password_strength
vec_distance vec_distance_cosine vec_distance_euclidean vec_fromtext vec_totext
"""
_JSON = """
json_array json_array_append json_array_insert json_array_intersect json_compact json_contains
json_contains_path json_depth json_detailed json_equals json_exists json_extract json_insert
json_keys json_key_value json_length json_loose json_merge json_merge_patch json_merge_preserve
json_normalize json_object json_object_filter_keys json_object_to_array json_overlaps
json_pretty json_query json_quote json_remove json_replace json_schema_valid
json_schema_validation_report json_search json_set json_storage_free json_storage_size
json_table json_type json_unquote json_valid json_value
column_add column_check column_create column_delete column_exists column_get column_json
column_list
"""
_SPATIAL = """
area asbinary astext aswkb aswkt boundary buffer centroid contains convexhull crosses
dimension disjoint endpoint envelope equals exteriorring geomcollfromtext geomcollfromwkb
geometrycollection geometrycollectionfromtext geometrycollectionfromwkb geometryfromtext
geometryfromwkb geometryn geometrytype geomfromtext geomfromwkb glength interiorringn
intersects isclosed isempty isring issimple linefromtext linefromwkb linestring
linestringfromtext linestringfromwkb mbrcontains mbrcoveredby mbrdisjoint mbrequal mbrequals
mbrintersects mbroverlaps mbrtouches mbrwithin mlinefromtext mlinefromwkb mpointfromtext
mpointfromwkb mpolyfromtext mpolyfromwkb multilinestring multilinestringfromtext
multilinestringfromwkb multipoint multipointfromtext multipointfromwkb multipolygon
multipolygonfromtext multipolygonfromwkb numgeometries numinteriorrings numpoints overlaps
point pointfromtext pointfromwkb pointn pointonsurface polyfromtext polyfromwkb polygon
polygonfromtext polygonfromwkb srid startpoint touches within x y
st_area st_asbinary st_asgeojson st_astext st_aswkb st_aswkt st_boundary st_buffer
st_centroid st_collect st_contains st_convexhull st_crosses st_difference st_dimension
st_disjoint st_distance st_distance_sphere st_endpoint st_envelope st_equals st_exteriorring
st_geohash st_geomcollfromtext st_geomcollfromwkb st_geometrycollectionfromtext
st_geometrycollectionfromwkb st_geometryfromtext st_geometryfromwkb st_geometryn
st_geometrytype st_geomfromgeojson st_geomfromtext st_geomfromwkb st_interiorringn
st_intersection st_intersects st_isclosed st_isempty st_isring st_issimple st_isvalid
st_latfromgeohash st_length st_linefromtext st_linefromwkb st_linestringfromtext
st_linestringfromwkb st_longfromgeohash st_mlinefromtext st_mpointfromtext st_mpointfromwkb
st_mpolyfromtext st_mpolyfromwkb st_multilinestringfromtext st_multipointfromtext
st_multipointfromwkb st_multipolygonfromtext st_multipolygonfromwkb st_numgeometries
st_numinteriorrings st_numpoints st_overlaps st_pointfromgeohash st_pointfromtext
st_pointfromwkb st_pointn st_pointonsurface st_polyfromtext st_polyfromwkb
st_polygonfromtext st_polygonfromwkb st_relate st_simplify st_srid st_startpoint
st_symdifference st_touches st_union st_validate st_within st_x st_y
"""


# Syntax that sqlglot reads as a call: subquery predicates, CASE, row constructors.
_SYNTAX = "exists any all some case row"


def _names(*groups: str) -> frozenset[str]:
    return frozenset(name for group in groups for name in group.split())


# Built-ins that read or compute and change nothing outside the statement's own session.
SAFE_FUNCTIONS: frozenset[str] = _names(
    _STRING,
    _NUMERIC,
    _DATE,
    _CONTROL,
    _AGGREGATE_WINDOW,
    _INFORMATION,
    _MISC,
    _JSON,
    _SPATIAL,
    _SYNTAX,
)

# Built-ins that wait, hold the session or touch only its own state: reads. They change
# nothing; the statement timeout and the rule's timeout bound them like any slow read.
HARMLESS_WAITS: dict[str, str] = {
    "sleep": "waits",
    "benchmark": "repeats an expression (CPU time only)",
    "master_pos_wait": "waits for replication",
    "source_pos_wait": "waits for replication",
    "master_gtid_wait": "waits for replication",
    "wait_for_executed_gtid_set": "waits for replication",
    "wait_until_sql_thread_after_gtids": "waits for replication",
    "wsrep_sync_wait_upto_gtid": "waits for replication",
    "release_lock": "releases an own named lock",
    "release_all_locks": "releases own named locks",
    "is_free_lock": "lock monitoring",
    "is_used_lock": "lock monitoring",
    "lastval": "reads this session's sequence value",
}

# Built-ins that change data or take locks that outlive the statement: write.
WRITE_FUNCTIONS: dict[str, str] = {
    "get_lock": "takes a named lock",
    "nextval": "advances a sequence",
    "setval": "sets a sequence",
}

# Built-ins that act outside the database: admin.
ADMIN_FUNCTIONS: dict[str, str] = {
    "load_file": "reads a file on the database server",
}

BUILTIN_NAMES: frozenset[str] = (
    SAFE_FUNCTIONS
    | frozenset(HARMLESS_WAITS)
    | frozenset(WRITE_FUNCTIONS)
    | frozenset(ADMIN_FUNCTIONS)
)

# Listed names that MariaDB 10.11 does not have (MySQL-only, or MariaDB 11 and later), as the
# server answered a call of each (tests/e2e/test_classify_truth_mysql.py keeps this honest).
# On a server without them such a name resolves to a stored function in the current
# database: the gateway cannot tell the family today, so they are reads for every server.
NOT_NATIVE_ON_MARIADB_10_11: frozenset[str] = _names(
    """
    any_value bin_to_uuid format_bytes format_pico_time grouping gtid_subset gtid_subtract
    icu_version is_uuid json_array_intersect json_key_value json_object_filter_keys
    json_object_to_array json_schema_valid json_schema_validation_report json_storage_free
    json_storage_size kdf mbrcoveredby months_between ps_current_thread_id ps_thread_id
    regexp_like roles_graphml source_pos_wait st_collect st_geohash st_isvalid
    st_latfromgeohash st_longfromgeohash st_pointfromgeohash st_simplify st_validate
    statement_digest statement_digest_text to_date to_number trunc uuid_to_bin uuid_v4 uuid_v7
    validate_password_strength vec_distance vec_distance_cosine vec_distance_euclidean
    vec_fromtext vec_totext wait_for_executed_gtid_set wait_until_sql_thread_after_gtids
    """
)

# Built-ins the server's lexer knows only as a bare name followed at once by "(" (the
# sql_functions[] of sql/lex.h; the MySQL manual's "Function Name Parsing and Resolution"):
# with a space or a comment before the "(" the name is an identifier and the server calls a
# stored function or UDF of that name in the current database. MariaDB 10.11's as the server
# answered (tests/e2e/test_classify_truth_mysql.py), with MySQL 8's SYSDATE and ST_COLLECT.
SPACE_SENSITIVE: frozenset[str] = _names(
    """
    adddate bit_and bit_or bit_xor cast count cume_dist curdate curtime date_add date_sub
    dense_rank extract first_value group_concat json_arrayagg json_objectagg lag lead max median
    mid min now nth_value ntile percent_rank percentile_cont percentile_disc position rank
    session_user std stddev stddev_pop stddev_samp subdate substr substring sum system_user trim
    trim_oracle var_pop var_samp variance
    sysdate st_collect
    """
)
SPACE_SENSITIVE_ONLY_ON_MYSQL: frozenset[str] = frozenset({"sysdate", "st_collect"})

_CURATED: tuple[tuple[dict[str, str], Risk], ...] = (
    (ADMIN_FUNCTIONS, Risk.ADMIN),
    (WRITE_FUNCTIONS, Risk.WRITE),
)


def normalise_safe(safe_functions: frozenset[str]) -> frozenset[str]:
    """The operator's safe names as compared: db part as written, function name lower case."""
    out = set()
    for written in safe_functions:
        db, dot, name = written.rpartition(".")
        out.add(f"{db}{dot}{name.lower()}")
    return frozenset(out)


def function_risk(
    name: str,
    qualifier: str | None,
    safe: frozenset[str] = frozenset(),
    *,
    quoted: bool = False,
    spaced: bool = False,
) -> tuple[Risk, str]:
    """(class, reason) of calling name (qualified by a database or not); reads have no reason.

    An unqualified built-in name is the built-in (MySQL resolves native functions before
    stored ones) unless the call is written so that the server may look for a stored
    function: quoted (`now`(): some built-ins are grammar, not functions, and a quoted name
    is never grammar) or spaced (a space or comment before "(") for a SPACE_SENSITIVE name.
    A qualified name is always a stored function. safe holds the operator's names normalised
    by normalise_safe; it cannot make a dangerous built-in safe.
    """
    lower = name.lower()
    written = f"{qualifier}.{name}" if qualifier is not None else name
    if qualifier is None:
        if quoted or (spaced and lower in SPACE_SENSITIVE):
            if lower in BUILTIN_NAMES:  # the built-in or a stored function: neither is vouched
                how = "a quoted name" if quoted else "a space or comment before its parenthesis"
                return Risk.UNKNOWN, (
                    f"unknown function {written}(): written with {how}, it may call a stored"
                    " function of that name rather than the built-in"
                )
        else:
            for table, risk in _CURATED:
                if lower in table:
                    return risk, f"{written}() {table[lower]}"
            if lower in SAFE_FUNCTIONS or lower in HARMLESS_WAITS:
                return Risk.READ, ""
    key = f"{qualifier}.{lower}" if qualifier is not None else lower
    if key in safe:
        return Risk.READ, ""
    return Risk.UNKNOWN, f"unknown function {written}()"
