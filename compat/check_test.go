package compat

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// Schemas named after Apache Avro's TestSchemas fixtures; the facts about
// them (which pairs are compatible, with which incompatibility at which
// location) reproduce those published by Apache Avro's
// TestSchemaCompatibility* tests.
const (
	sNull    = `"null"`
	sBoolean = `"boolean"`
	sInt     = `"int"`
	sLong    = `"long"`
	sFloat   = `"float"`
	sDouble  = `"double"`
	sBytes   = `"bytes"`
	sString  = `"string"`

	sIntArray    = `{"type":"array","items":"int"}`
	sLongArray   = `{"type":"array","items":"long"}`
	sStringArray = `{"type":"array","items":"string"}`
	sIntMap      = `{"type":"map","values":"int"}`
	sLongMap     = `{"type":"map","values":"long"}`
	sStringMap   = `{"type":"map","values":"string"}`

	sEnum1AB      = `{"type":"enum","name":"Enum1","symbols":["A","B"]}`
	sEnum1ABC     = `{"type":"enum","name":"Enum1","symbols":["A","B","C"]}`
	sEnum1BC      = `{"type":"enum","name":"Enum1","symbols":["B","C"]}`
	sEnum2AB      = `{"type":"enum","name":"Enum2","symbols":["A","B"]}`
	sEnum1ABDefA  = `{"type":"enum","name":"Enum1","symbols":["A","B"],"default":"A"}`
	sEnum1AliasAB = `{"type":"enum","name":"Enum2","aliases":["Enum1"],"symbols":["A","B"]}`

	sEmptyUnion      = `[]`
	sNullUnion       = `["null"]`
	sIntUnion        = `["int"]`
	sLongUnion       = `["long"]`
	sFloatUnion      = `["float"]`
	sDoubleUnion     = `["double"]`
	sStringUnion     = `["string"]`
	sBytesUnion      = `["bytes"]`
	sIntStringUnion  = `["int","string"]`
	sStringIntUnion  = `["string","int"]`
	sIntFloatUnion   = `["int","float"]`
	sIntLongUnion    = `["int","long"]`
	sIntLongFDUnion  = `["int","long","float","double"]`
	sNullStringUnion = `["null","string"]`

	sFixed4        = `{"type":"fixed","name":"Fixed","size":4}`
	sFixed8        = `{"type":"fixed","name":"Fixed","size":8}`
	sFixed4Other   = `{"type":"fixed","name":"AnotherName","size":4}`
	sFixed4Aliased = `{"type":"fixed","name":"AnotherName","aliases":["Fixed"],"size":4}`

	sEmptyRecord1   = `{"type":"record","name":"Record1","fields":[]}`
	sEmptyRecord2   = `{"type":"record","name":"Record2","fields":[]}`
	sAIntRecord1    = `{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"}]}`
	sALongRecord1   = `{"type":"record","name":"Record1","fields":[{"name":"a","type":"long"}]}`
	sAIntBIntRec1   = `{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}`
	sADIntRecord1   = `{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0}]}`
	sAIntBDIntRec1  = `{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}`
	sADIntBDIntRec1 = `{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":"int","default":0}]}`

	sIntList  = `{"type":"record","name":"List","fields":[{"name":"head","type":"int","default":0},{"name":"tail","type":["null","List"],"default":null}]}`
	sLongList = `{"type":"record","name":"List","fields":[{"name":"head","type":"long","default":0},{"name":"tail","type":["null","List"],"default":null}]}`

	sEnumABDefAInRecord  = `{"type":"record","name":"Record","fields":[{"name":"field","type":{"type":"enum","name":"Enum","symbols":["A","B"],"default":"A"}}]}`
	sEnumABCDefAInRecord = `{"type":"record","name":"Record","fields":[{"name":"field","type":{"type":"enum","name":"Enum","symbols":["A","B","C"],"default":"A"}}]}`

	// Records with an inner array of records whose namespaces differ:
	// compatible, because names are compared unqualified.
	sNSRecord1 = `{"type":"record","name":"Record1","fields":[{"name":"f1","type":{"type":"array","items":{"type":"record","name":"InnerRecord1","namespace":"ns1","fields":[{"name":"a","type":"int"}]}}}]}`
	sNSRecord2 = `{"type":"record","name":"Record1","fields":[{"name":"f1","type":{"type":"array","items":{"type":"record","name":"InnerRecord1","namespace":"ns2","fields":[{"name":"a","type":"int"}]}}}]}`
)

type pairCase struct {
	name           string
	reader, writer string
	// want lists "TYPE@location" for every expected incompatibility, in
	// order; empty means compatible.
	want []string
}

var pairCases = []pairCase{
	// Primitives read themselves.
	{"null/null", sNull, sNull, nil},
	{"boolean/boolean", sBoolean, sBoolean, nil},
	{"int/int", sInt, sInt, nil},
	{"long/long", sLong, sLong, nil},
	{"float/float", sFloat, sFloat, nil},
	{"double/double", sDouble, sDouble, nil},
	{"bytes/bytes", sBytes, sBytes, nil},
	{"string/string", sString, sString, nil},

	// Promotions, and their reverse directions which are not allowed.
	{"long reads int", sLong, sInt, nil},
	{"float reads int", sFloat, sInt, nil},
	{"float reads long", sFloat, sLong, nil},
	{"double reads int", sDouble, sInt, nil},
	{"double reads long", sDouble, sLong, nil},
	{"double reads float", sDouble, sFloat, nil},
	{"string reads bytes", sString, sBytes, nil},
	{"bytes reads string", sBytes, sString, nil},
	{"int cannot read long", sInt, sLong, []string{"TYPE_MISMATCH@"}},
	{"int cannot read float", sInt, sFloat, []string{"TYPE_MISMATCH@"}},
	{"int cannot read double", sInt, sDouble, []string{"TYPE_MISMATCH@"}},
	{"long cannot read float", sLong, sFloat, []string{"TYPE_MISMATCH@"}},
	{"long cannot read double", sLong, sDouble, []string{"TYPE_MISMATCH@"}},
	{"float cannot read double", sFloat, sDouble, []string{"TYPE_MISMATCH@"}},
	{"int cannot read string", sInt, sString, []string{"TYPE_MISMATCH@"}},
	{"string cannot read int", sString, sInt, []string{"TYPE_MISMATCH@"}},
	{"string cannot read boolean", sString, sBoolean, []string{"TYPE_MISMATCH@"}},
	{"null cannot read int", sNull, sInt, []string{"TYPE_MISMATCH@"}},
	{"int cannot read null", sInt, sNull, []string{"TYPE_MISMATCH@"}},
	{"boolean cannot read int", sBoolean, sInt, []string{"TYPE_MISMATCH@"}},
	{"int cannot read boolean", sInt, sBoolean, []string{"TYPE_MISMATCH@"}},
	{"double cannot read string", sDouble, sString, []string{"TYPE_MISMATCH@"}},
	{"bytes cannot read null", sBytes, sNull, []string{"TYPE_MISMATCH@"}},
	{"bytes cannot read int", sBytes, sInt, []string{"TYPE_MISMATCH@"}},
	{"long cannot read string", sLong, sString, []string{"TYPE_MISMATCH@"}},
	{"float cannot read bytes", sFloat, sBytes, []string{"TYPE_MISMATCH@"}},
	{"fixed cannot read string", sFixed4, sString, []string{"TYPE_MISMATCH@"}},
	{"string cannot read fixed", sString, sFixed4, []string{"TYPE_MISMATCH@"}},
	{"bytes cannot read fixed", sBytes, sFixed4, []string{"TYPE_MISMATCH@"}},
	{"record cannot read int", sAIntRecord1, sInt, []string{"TYPE_MISMATCH@"}},
	{"int cannot read record", sInt, sAIntRecord1, []string{"TYPE_MISMATCH@"}},
	{"int cannot read enum", sInt, sEnum2AB, []string{"TYPE_MISMATCH@"}},
	{"enum cannot read int", sEnum2AB, sInt, []string{"TYPE_MISMATCH@"}},
	{"enum cannot read string", sEnum1AB, sString, []string{"TYPE_MISMATCH@"}},
	{"record cannot read enum", sEmptyRecord1, sEnum1AB, []string{"TYPE_MISMATCH@"}},

	// Arrays and maps, recursively.
	{"int array/int array", sIntArray, sIntArray, nil},
	{"long array reads int array", sLongArray, sIntArray, nil},
	{"int array cannot read long array", sIntArray, sLongArray, []string{"TYPE_MISMATCH@/items"}},
	{"string array reads string array", sStringArray, sStringArray, nil},
	{"int map/int map", sIntMap, sIntMap, nil},
	{"long map reads int map", sLongMap, sIntMap, nil},
	{"int map cannot read long map", sIntMap, sLongMap, []string{"TYPE_MISMATCH@/values"}},
	{"string map cannot read int map", sStringMap, sIntMap, []string{"TYPE_MISMATCH@/values"}},
	{"map cannot read array", sIntMap, sIntArray, []string{"TYPE_MISMATCH@"}},
	{"array cannot read map", sIntArray, sIntMap, []string{"TYPE_MISMATCH@"}},
	{"map of string cannot read array of string", sStringMap, sStringArray, []string{"TYPE_MISMATCH@"}},
	{"nested arrays", `{"type":"array","items":{"type":"array","items":"long"}}`, `{"type":"array","items":{"type":"array","items":"int"}}`, nil},
	{"nested arrays reverse", `{"type":"array","items":{"type":"array","items":"int"}}`, `{"type":"array","items":{"type":"array","items":"long"}}`, []string{"TYPE_MISMATCH@/items/items"}},
	{"map of arrays", `{"type":"map","values":{"type":"array","items":"int"}}`, `{"type":"map","values":{"type":"array","items":"string"}}`, []string{"TYPE_MISMATCH@/values/items"}},

	// Enums.
	{"enum AB/AB", sEnum1AB, sEnum1AB, nil},
	{"enum ABC reads AB", sEnum1ABC, sEnum1AB, nil},
	{"enum AB cannot read ABC", sEnum1AB, sEnum1ABC, []string{"MISSING_ENUM_SYMBOLS@/symbols"}},
	{"enum BC cannot read ABC", sEnum1BC, sEnum1ABC, []string{"MISSING_ENUM_SYMBOLS@/symbols"}},
	{"enum ABC reads BC", sEnum1ABC, sEnum1BC, nil},
	{"enum with default reads more symbols", sEnum1ABDefA, sEnum1ABC, nil},
	{"enum names differ", sEnum1AB, sEnum2AB, []string{"NAME_MISMATCH@/name"}},
	{"enum names differ reverse", sEnum2AB, sEnum1AB, []string{"NAME_MISMATCH@/name"}},
	{"enum alias", sEnum1AliasAB, sEnum1AB, nil},
	{"enum alias is reader-only", sEnum1AB, sEnum1AliasAB, []string{"NAME_MISMATCH@/name"}},
	{"enum name and symbols both wrong", sEnum2AB, sEnum1ABC, []string{"NAME_MISMATCH@/name", "MISSING_ENUM_SYMBOLS@/symbols"}},
	{"enum default in record reads more symbols", sEnumABDefAInRecord, sEnumABCDefAInRecord, nil},
	{"enum in record missing symbols", `{"type":"record","name":"R","fields":[{"name":"e","type":` + sEnum1AB + `}]}`, `{"type":"record","name":"R","fields":[{"name":"e","type":` + sEnum1ABC + `}]}`, []string{"MISSING_ENUM_SYMBOLS@/fields/0/type/symbols"}},

	// Fixed.
	{"fixed 4/4", sFixed4, sFixed4, nil},
	{"fixed sizes differ", sFixed4, sFixed8, []string{"FIXED_SIZE_MISMATCH@/size"}},
	{"fixed sizes differ reverse", sFixed8, sFixed4, []string{"FIXED_SIZE_MISMATCH@/size"}},
	{"fixed names differ", sFixed4, sFixed4Other, []string{"NAME_MISMATCH@/name"}},
	{"fixed alias", sFixed4Aliased, sFixed4, nil},
	{"fixed name and size both wrong", sFixed8, sFixed4Other, []string{"NAME_MISMATCH@/name", "FIXED_SIZE_MISMATCH@/size"}},
	{"fixed in record", `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"f","type":` + sFixed4 + `}]}`, `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"f","type":` + sFixed8 + `}]}`, []string{"FIXED_SIZE_MISMATCH@/fields/1/type/size"}},

	// Records.
	{"empty/empty", sEmptyRecord1, sEmptyRecord1, nil},
	{"empty reads a", sEmptyRecord1, sAIntRecord1, nil},
	{"a/a", sAIntRecord1, sAIntRecord1, nil},
	{"a with default reads a", sADIntRecord1, sAIntRecord1, nil},
	{"a with default/a with default", sADIntRecord1, sADIntRecord1, nil},
	{"a reads a with default", sAIntRecord1, sADIntRecord1, nil},
	{"long a reads int a", sALongRecord1, sAIntRecord1, nil},
	{"int a cannot read long a", sAIntRecord1, sALongRecord1, []string{"TYPE_MISMATCH@/fields/0/type"}},
	{"a reads a,b", sAIntRecord1, sAIntBIntRec1, nil},
	{"a with default reads a,b", sADIntRecord1, sAIntBIntRec1, nil},
	{"a, b with default reads a", sAIntBDIntRec1, sAIntRecord1, nil},
	{"a, b both defaults read empty", sADIntBDIntRec1, sEmptyRecord1, nil},
	{"a, b both defaults read a", sADIntBDIntRec1, sAIntRecord1, nil},
	{"a,b reads a,b both defaults", sAIntBIntRec1, sADIntBDIntRec1, nil},
	{"a cannot read empty", sAIntRecord1, sEmptyRecord1, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/fields/0"}},
	{"a, b with default cannot read empty", sAIntBDIntRec1, sEmptyRecord1, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/fields/0"}},
	{"a,b cannot read a", sAIntBIntRec1, sAIntRecord1, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/fields/1"}},
	{"a,b cannot read empty: both reported", sAIntBIntRec1, sEmptyRecord1, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/fields/0", "READER_FIELD_MISSING_DEFAULT_VALUE@/fields/1"}},
	{"record names differ", sEmptyRecord2, sEmptyRecord1, []string{"NAME_MISMATCH@/name"}},
	{"record names differ, fields too", `{"type":"record","name":"Record2","fields":[{"name":"a","type":"int"}]}`, sEmptyRecord1, []string{"NAME_MISMATCH@/name", "READER_FIELD_MISSING_DEFAULT_VALUE@/fields/0"}},
	{"record alias", `{"type":"record","name":"Record2","aliases":["Record1"],"fields":[]}`, sEmptyRecord1, nil},
	{"record alias needs writer full name", `{"type":"record","name":"Record2","namespace":"a","aliases":["Record1"],"fields":[]}`, `{"type":"record","name":"Record1","namespace":"b","fields":[]}`, []string{"NAME_MISMATCH@/name"}},
	{"record alias with full name", `{"type":"record","name":"Record2","namespace":"a","aliases":["b.Record1"],"fields":[]}`, `{"type":"record","name":"Record1","namespace":"b","fields":[]}`, nil},
	{"namespaces differ, names equal", `{"type":"record","name":"R","namespace":"x","fields":[]}`, `{"type":"record","name":"R","namespace":"y","fields":[]}`, nil},
	{"inner records in other namespaces", sNSRecord1, sNSRecord2, nil},
	{"field alias", `{"type":"record","name":"R","fields":[{"name":"f1_new","type":"string","aliases":["f1"]}]}`, `{"type":"record","name":"R","fields":[{"name":"f1","type":"string"}]}`, nil},
	{"field alias is reader-only", `{"type":"record","name":"R","fields":[{"name":"f1","type":"string"}]}`, `{"type":"record","name":"R","fields":[{"name":"f1_new","type":"string","aliases":["f1"]}]}`, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/fields/0"}},
	{"field alias types checked", `{"type":"record","name":"R","fields":[{"name":"n","type":"int","aliases":["o"]}]}`, `{"type":"record","name":"R","fields":[{"name":"x","type":"int"},{"name":"o","type":"string"}]}`, []string{"TYPE_MISMATCH@/fields/0/type"}},
	{"field order does not matter", `{"type":"record","name":"R","fields":[{"name":"b","type":"long"},{"name":"a","type":"string"}]}`, `{"type":"record","name":"R","fields":[{"name":"a","type":"bytes"},{"name":"b","type":"int"}]}`, nil},
	{"every problem reported", `{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"string"},{"name":"c","type":"long"},{"name":"d","type":` + sEnum1AB + `}]}`, `{"type":"record","name":"R","fields":[{"name":"a","type":"long"},{"name":"b","type":"boolean"},{"name":"d","type":` + sEnum1ABC + `}]}`,
		[]string{"TYPE_MISMATCH@/fields/0/type", "TYPE_MISMATCH@/fields/1/type", "READER_FIELD_MISSING_DEFAULT_VALUE@/fields/2", "MISSING_ENUM_SYMBOLS@/fields/3/type/symbols"}},
	{"nested record field", `{"type":"record","name":"Outer","fields":[{"name":"in","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"},{"name":"y","type":"int"}]}}]}`, `{"type":"record","name":"Outer","fields":[{"name":"in","type":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}}]}`, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/fields/0/type/fields/1"}},
	{"record in array", `{"type":"array","items":` + sAIntBIntRec1 + `}`, `{"type":"array","items":` + sAIntRecord1 + `}`, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/items/fields/1"}},
	{"record in map", `{"type":"map","values":` + sALongRecord1 + `}`, `{"type":"map","values":` + sAIntRecord1 + `}`, nil},
	{"reused named type reported at each use", `{"type":"record","name":"R","fields":[{"name":"a","type":` + sEnum1AB + `},{"name":"b","type":"Enum1"}]}`, `{"type":"record","name":"R","fields":[{"name":"a","type":` + sEnum1ABC + `},{"name":"b","type":"Enum1"}]}`, []string{"MISSING_ENUM_SYMBOLS@/fields/0/type/symbols", "MISSING_ENUM_SYMBOLS@/fields/1/type/symbols"}},

	// Unions.
	{"empty union/empty union", sEmptyUnion, sEmptyUnion, nil},
	{"float union reads empty union", sFloatUnion, sEmptyUnion, nil},
	{"float union reads int union", sFloatUnion, sIntUnion, nil},
	{"float union reads long union", sFloatUnion, sLongUnion, nil},
	{"float union reads int,long union", sFloatUnion, sIntLongUnion, nil},
	{"int union/int union", sIntUnion, sIntUnion, nil},
	{"int,string reads string,int", sIntStringUnion, sStringIntUnion, nil},
	{"int union reads empty union", sIntUnion, sEmptyUnion, nil},
	{"long union reads int union", sLongUnion, sIntUnion, nil},
	{"double union reads int union", sDoubleUnion, sIntUnion, nil},
	{"double union reads long union", sDoubleUnion, sLongUnion, nil},
	{"double union reads float union", sDoubleUnion, sFloatUnion, nil},
	{"string union reads bytes union", sStringUnion, sBytesUnion, nil},
	{"bytes union reads string union", sBytesUnion, sStringUnion, nil},
	{"double union reads int,float union", sDoubleUnion, sIntFloatUnion, nil},
	{"float reads int,float union", sFloat, sIntFloatUnion, nil},
	{"long reads int,long union", sLong, sIntLongUnion, nil},
	{"double reads int,float union", sDouble, sIntFloatUnion, nil},
	{"double reads int,long,float,double union", sDouble, sIntLongFDUnion, nil},
	{"float reads float union", sFloat, sFloatUnion, nil},
	{"int union reads int", sIntUnion, sInt, nil},
	{"int reads int union", sInt, sIntUnion, nil},
	{"null,string reads string", sNullStringUnion, sString, nil},
	{"null,string reads null", sNullStringUnion, sNull, nil},
	{"int union cannot read int,string union", sIntUnion, sIntStringUnion, []string{"MISSING_UNION_BRANCH@/1"}},
	{"string union cannot read int,string union", sStringUnion, sIntStringUnion, []string{"MISSING_UNION_BRANCH@/0"}},
	{"int,string cannot read int,string,long", sIntStringUnion, `["int","string","long"]`, []string{"MISSING_UNION_BRANCH@/2"}},
	{"empty union cannot read int union", sEmptyUnion, sIntUnion, []string{"MISSING_UNION_BRANCH@/0"}},
	{"null union cannot read int", sNullUnion, sInt, []string{"MISSING_UNION_BRANCH@"}},
	{"int union cannot read long", sIntUnion, sLong, []string{"MISSING_UNION_BRANCH@"}},
	{"empty union cannot read int", sEmptyUnion, sInt, []string{"MISSING_UNION_BRANCH@"}},
	{"int cannot read int,string union", sInt, sIntStringUnion, []string{"TYPE_MISMATCH@"}},
	{"long cannot read int,float union", sLong, sIntFloatUnion, []string{"TYPE_MISMATCH@"}},
	{"int cannot read null,string: both branches", sInt, sNullStringUnion, []string{"TYPE_MISMATCH@", "TYPE_MISMATCH@"}},
	{"string cannot read null,string", sString, sNullStringUnion, []string{"TYPE_MISMATCH@"}},
	{"int reads empty union", sInt, sEmptyUnion, nil},
	{"union of records", `["null",` + sAIntBDIntRec1 + `]`, `["null",` + sAIntRecord1 + `]`, nil},
	{"union of records missing default", `["null",` + sAIntBIntRec1 + `]`, `["null",` + sAIntRecord1 + `]`, []string{"MISSING_UNION_BRANCH@/1", "READER_FIELD_MISSING_DEFAULT_VALUE@/1/fields/1"}},
	{"union of records missing default, reader branch elsewhere", `[` + sAIntBIntRec1 + `,"null"]`, `["null",` + sAIntRecord1 + `]`, []string{"MISSING_UNION_BRANCH@/1", "READER_FIELD_MISSING_DEFAULT_VALUE@/0/fields/1"}},
	{"union of enums by alias", `["null",` + sEnum1AliasAB + `]`, `["null",` + sEnum1ABC + `]`, []string{"MISSING_UNION_BRANCH@/1", "MISSING_ENUM_SYMBOLS@/1/symbols"}},
	{"reader union, writer record", `["null",` + sAIntBIntRec1 + `]`, sAIntRecord1, []string{"MISSING_UNION_BRANCH@", "READER_FIELD_MISSING_DEFAULT_VALUE@/1/fields/1"}},
	{"reader union without the name", `["null",` + sEmptyRecord2 + `]`, sEmptyRecord1, []string{"MISSING_UNION_BRANCH@"}},
	{"union in record field", `{"type":"record","name":"R","fields":[{"name":"f1","type":["null","string"]}]}`, `{"type":"record","name":"R","fields":[{"name":"f1","type":["null","string","int"]}]}`, []string{"MISSING_UNION_BRANCH@/fields/0/type/2"}},
	{"union in array", `{"type":"array","items":["null","int"]}`, `{"type":"array","items":["null","long"]}`, []string{"MISSING_UNION_BRANCH@/items/1"}},

	// Recursive schemas.
	{"int list/int list", sIntList, sIntList, nil},
	{"long list/long list", sLongList, sLongList, nil},
	{"long list reads int list", sLongList, sIntList, nil},
	{"int list cannot read long list", sIntList, sLongList, []string{"TYPE_MISMATCH@/fields/0/type"}},
	{"mutually recursive", `{"type":"record","name":"A","fields":[{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"a","type":["null","A"]},{"name":"n","type":"long"}]}]}]}`, `{"type":"record","name":"A","fields":[{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"a","type":["null","A"]},{"name":"n","type":"int"}]}]}]}`, nil},
	{"mutually recursive reverse", `{"type":"record","name":"A","fields":[{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"a","type":["null","A"]},{"name":"n","type":"int"}]}]}]}`, `{"type":"record","name":"A","fields":[{"name":"b","type":["null",{"type":"record","name":"B","fields":[{"name":"a","type":["null","A"]},{"name":"n","type":"long"}]}]}]}`, []string{"MISSING_UNION_BRANCH@/fields/0/type/1", "TYPE_MISMATCH@/fields/0/type/1/fields/1/type"}},
	{"tree via array", `{"type":"record","name":"Node","fields":[{"name":"v","type":"long"},{"name":"kids","type":{"type":"array","items":"Node"}}]}`, `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"kids","type":{"type":"array","items":"Node"}}]}`, nil},
	{"tree via map, new field without default", `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"w","type":"int"},{"name":"kids","type":{"type":"map","values":"Node"}}]}`, `{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"kids","type":{"type":"map","values":"Node"}}]}`, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/fields/1"}},

	// Logical types are judged on their underlying types.
	{"timestamp-millis reads long", `{"type":"long","logicalType":"timestamp-millis"}`, sLong, nil},
	{"long reads timestamp-micros", sLong, `{"type":"long","logicalType":"timestamp-micros"}`, nil},
	{"timestamp-millis reads date (int)", `{"type":"long","logicalType":"timestamp-millis"}`, `{"type":"int","logicalType":"date"}`, nil},
	{"date cannot read timestamp", `{"type":"int","logicalType":"date"}`, `{"type":"long","logicalType":"timestamp-millis"}`, []string{"TYPE_MISMATCH@"}},
	{"uuid reads string", `{"type":"string","logicalType":"uuid"}`, sString, nil},
	{"decimal bytes reads string", `{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`, sString, nil},
	{"decimal scale change is not judged", `{"type":"bytes","logicalType":"decimal","precision":9,"scale":4}`, `{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}`, nil},
	{"decimal fixed sizes", `{"type":"fixed","name":"D","size":8,"logicalType":"decimal","precision":10}`, `{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":8}`, []string{"FIXED_SIZE_MISMATCH@/size"}},
	{"duration fixed", `{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}`, `{"type":"fixed","name":"Dur","size":12,"logicalType":"duration"}`, nil},
	{"unknown logical type ignored", `{"type":"string","logicalType":"no-such-thing"}`, sBytes, nil},

	// Confluent AvroCompatibilityTest schemas, pairwise.
	{"confluent: add field with default", cfSchema2, cfSchema1, nil},
	{"confluent: add field without default", cfSchema3, cfSchema1, []string{"READER_FIELD_MISSING_DEFAULT_VALUE@/fields/1"}},
	{"confluent: rename field with alias", cfSchema4, cfSchema1, nil},
	{"confluent: field to union", cfSchema6, cfSchema1, nil},
	{"confluent: union to field", cfSchema1, cfSchema6, []string{"TYPE_MISMATCH@/fields/0/type"}},
	{"confluent: add union branch", cfSchema7, cfSchema6, nil},
	{"confluent: remove union branch", cfSchema6, cfSchema7, []string{"MISSING_UNION_BRANCH@/fields/0/type/2"}},
	{"confluent: remove field", cfSchema1, cfSchema3, nil},
}

// Schemas of Confluent Schema Registry's AvroCompatibilityTest.
const (
	cfSchema1 = `{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1"}]}`
	cfSchema2 = `{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1"},{"type":"string","name":"f2","default":"foo"}]}`
	cfSchema3 = `{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1"},{"type":"string","name":"f2"}]}`
	cfSchema4 = `{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1_new","aliases":["f1"]}]}`
	cfSchema6 = `{"type":"record","name":"myrecord","fields":[{"type":["null","string"],"name":"f1","doc":"doc of f1"}]}`
	cfSchema7 = `{"type":"record","name":"myrecord","fields":[{"type":["null","string","int"],"name":"f1","doc":"doc of f1"}]}`
	cfSchema8 = `{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1"},{"type":"string","name":"f2","default":"foo"},{"type":"string","name":"f3","default":"bar"}]}`
)

func mustParse(t testing.TB, s string) *Schema {
	t.Helper()
	sc, err := Parse([]byte(s))
	if err != nil {
		t.Fatalf("parse %s: %v", s, err)
	}
	return sc
}

func summary(incs []Incompatibility) []string {
	var out []string
	for _, i := range incs {
		out = append(out, string(i.Type)+"@"+i.Location)
	}
	return out
}

func TestCheckPairs(t *testing.T) {
	if len(pairCases) < 150 {
		t.Fatalf("only %d pair cases", len(pairCases))
	}
	for _, tc := range pairCases {
		t.Run(tc.name, func(t *testing.T) {
			r, w := mustParse(t, tc.reader), mustParse(t, tc.writer)
			got := Check(r, w)
			if !slices.Equal(summary(got), tc.want) {
				t.Fatalf("reader %s\nwriter %s\ngot  %v\nwant %v\n%v", tc.reader, tc.writer, summary(got), tc.want, got)
			}
			if Compatible(r, w) != (len(tc.want) == 0) {
				t.Fatal("Compatible disagrees with Check")
			}
			for _, inc := range got {
				if inc.Message == "" || strings.Contains(inc.Message, "%!") {
					t.Errorf("bad message %q", inc.Message)
				}
				// Both pointers must name something in their schema.
				if _, _, ok := r.Position(inc.Location); !ok {
					t.Errorf("no position for %q", inc.Location)
				}
			}
		})
	}
}

// Every schema is compatible with itself, in every table case.
func TestCheckSelf(t *testing.T) {
	seen := map[string]bool{}
	for _, tc := range pairCases {
		for _, s := range []string{tc.reader, tc.writer} {
			if seen[s] {
				continue
			}
			seen[s] = true
			sc := mustParse(t, s)
			if got := Check(sc, sc); got != nil {
				t.Errorf("%s does not read itself: %v", s, got)
			}
		}
	}
}

func TestMessages(t *testing.T) {
	for _, tc := range []struct {
		reader, writer string
		want           []string
	}{
		{sInt, sString, []string{"the reader expects int but the writer wrote string"}},
		{sEnum1AB, sEnum1ABC, []string{"symbol(s) C", "no default symbol"}},
		{sAIntBIntRec1, sAIntRecord1, []string{`reader field "b" (int)`, "no default value"}},
		{sFixed4, sFixed8, []string{"size 4 in the reader but 8 in the writer"}},
		{sEmptyRecord2, sEmptyRecord1, []string{"names differ", `"aliases": ["Record1"]`}},
		{sIntUnion, sIntStringUnion, []string{"writer union branch 1 (string)"}},
		{`["null",` + sAIntBIntRec1 + `]`, sAIntRecord1, []string{"writer's record Record1", "see the next finding"}},
	} {
		got := Check(mustParse(t, tc.reader), mustParse(t, tc.writer))
		if len(got) < 1 {
			t.Fatalf("%s vs %s: %v", tc.reader, tc.writer, got)
		}
		for _, w := range tc.want {
			if !strings.Contains(got[0].Message, w) {
				t.Errorf("message %q lacks %q", got[0].Message, w)
			}
		}
	}
}

func TestWriterLocation(t *testing.T) {
	r := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"b","type":"int"},{"name":"a","type":["null","int"]}]}`)
	w := mustParse(t, `{"type":"record","name":"R","fields":[{"name":"a","type":["null","string"]},{"name":"b","type":"string"}]}`)
	got := Check(r, w)
	want := []Incompatibility{
		{Type: TypeMismatch, Location: "/fields/0/type", WriterLocation: "/fields/1/type"},
		{Type: MissingUnionBranch, Location: "/fields/1/type/1", WriterLocation: "/fields/0/type/1"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i].Type != want[i].Type || got[i].Location != want[i].Location || got[i].WriterLocation != want[i].WriterLocation {
			t.Errorf("%d: got %+v want %+v", i, got[i], want[i])
		}
	}
}

// A schema referring to a named type many times along many paths is
// checked in linear time thanks to memoisation, and every use is reported.
func TestCheckSharedTypesScale(t *testing.T) {
	var rb, wb strings.Builder
	rb.WriteString(`{"type":"record","name":"R","fields":[{"name":"f0","type":` + sEnum1AB + `}`)
	wb.WriteString(`{"type":"record","name":"R","fields":[{"name":"f0","type":` + sEnum1ABC + `}`)
	for i := 1; i < 500; i++ {
		fmt.Fprintf(&rb, `,{"name":"f%d","type":"Enum1"}`, i)
		fmt.Fprintf(&wb, `,{"name":"f%d","type":"Enum1"}`, i)
	}
	rb.WriteString("]}")
	wb.WriteString("]}")
	got := Check(mustParse(t, rb.String()), mustParse(t, wb.String()))
	if len(got) != 500 || got[499].Location != "/fields/499/type/symbols" {
		t.Fatalf("got %d findings, last %v", len(got), got[len(got)-1])
	}
}
