// Test data for strategic-merge-patch.patcher.test.ts: cases ported as data from upstream's
// k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go, against its mergeItem schema
// (mergeItemSchemas below mirrors testdata/swagger-merge-item-v3.json). Each case applies
// `twoWay` to `original` (expecting `twoWayResult`, else `modified`) and, when it has them,
// `threeWay` to `current` (expecting `result`). `expectedError` is upstream's substring check;
// `status` is the Status kube-apiserver answers with.

/** The mergeItem and retainKeysMergeItem schemas of upstream's test, as OpenAPI v3 components. */
export const mergeItemSchemas: Record<string, object> = {
  mergeItem: {
    properties: {
      name: { type: "string" },
      value: { type: "string" },
      other: { type: "string" },
      mergingList: {
        type: "array",
        items: { default: {}, allOf: [{ $ref: "#/components/schemas/mergeItem" }] },
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge",
      },
      nonMergingList: { type: "array", items: { $ref: "#/components/schemas/mergeItem" } },
      mergingIntList: {
        type: "array",
        items: { type: "integer", format: "int32" },
        "x-kubernetes-patch-strategy": "merge",
      },
      nonMergingIntList: { type: "array", items: { type: "integer", format: "int32" } },
      mergeItemPtr: {
        allOf: [{ $ref: "#/components/schemas/mergeItem" }],
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge",
      },
      simpleMap: { type: "object", additionalProperties: { type: "string" } },
      replacingItem: {
        allOf: [{ $ref: "#/components/schemas/io.k8s.apimachinery.pkg.runtime.RawExtension" }],
        "x-kubernetes-patch-strategy": "replace",
      },
      retainKeysMap: {
        allOf: [{ $ref: "#/components/schemas/retainKeysMergeItem" }],
        "x-kubernetes-patch-strategy": "retainKeys",
      },
      retainKeysMergingList: {
        type: "array",
        items: { $ref: "#/components/schemas/mergeItem" },
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge,retainKeys",
      },
    },
  },
  retainKeysMergeItem: {
    properties: {
      name: { type: "string" },
      value: { type: "string" },
      other: { type: "string" },
      simpleMap: { items: { type: "string" } },
      mergingList: {
        type: "array",
        items: { $ref: "#/components/schemas/mergeItem" },
        "x-kubernetes-patch-merge-key": "name",
        "x-kubernetes-patch-strategy": "merge",
      },
      nonMergingList: { type: "array", items: { $ref: "#/components/schemas/mergeItem" } },
      mergingIntList: {
        type: "array",
        items: { type: "integer", format: "int32" },
        "x-kubernetes-patch-strategy": "merge",
      },
    },
  },
  "io.k8s.apimachinery.pkg.runtime.RawExtension": {
    properties: { Raw: { type: "string", format: "byte" } },
  },
};

/** customStrategicMergePatchTestCaseData: patches CreateTwoWayMergePatch would not generate. */
export const customCases = `
- description: unique scalars when merging lists
  original:
    mergingIntList: [1, 2]
  twoWay:
    mergingIntList: [2, 3]
  modified:
    mergingIntList: [1, 2, 3]
- description: delete map from nested map
  original:
    simpleMap:
      key1: 1
      key2: 1
  twoWay:
    simpleMap:
      $patch: delete
  modified:
    simpleMap: {}
- description: delete all items from merging list
  original:
    mergingList:
      - name: 1
      - name: 2
  twoWay:
    mergingList:
      - $patch: replace
  modified:
    mergingList: []
- description: merge empty merging lists
  original:
    mergingList: []
  twoWay:
    mergingList: []
  modified:
    mergingList: []
- description: delete all keys from map
  original:
    name: 1
    value: 1
  twoWay:
    $patch: replace
  modified: {}
- description: add key and delete all keys from map
  original:
    name: 1
    value: 1
  twoWay:
    other: a
    $patch: replace
  modified:
    other: a
- description: delete all duplicate entries in a merging list
  original:
    mergingList:
      - name: 1
      - name: 1
      - name: 2
        value: a
      - name: 3
      - name: 3
  twoWay:
    mergingList:
      - name: 1
        $patch: delete
      - name: 3
        $patch: delete
  modified:
    mergingList:
      - name: 2
        value: a
- description: retainKeys map can add a field when no retainKeys directive present
  original:
    retainKeysMap:
      name: foo
  twoWay:
    retainKeysMap:
      value: bar
  modified:
    retainKeysMap:
      name: foo
      value: bar
- description: retainKeys map can change a field when no retainKeys directive present
  original:
    retainKeysMap:
      name: foo
      value: a
  twoWay:
    retainKeysMap:
      value: b
  modified:
    retainKeysMap:
      name: foo
      value: b
- description: retainKeys map can delete a field when no retainKeys directive present
  original:
    retainKeysMap:
      name: foo
      value: a
  twoWay:
    retainKeysMap:
      value: null
  modified:
    retainKeysMap:
      name: foo
- description: retainKeys map merge an empty map
  original:
    retainKeysMap:
      name: foo
      value: a
  twoWay:
    retainKeysMap: {}
  modified:
    retainKeysMap:
      name: foo
      value: a
- description: retainKeys list can add a field when no retainKeys directive present
  original:
    retainKeysMergingList:
      - name: bar
      - name: foo
  twoWay:
    retainKeysMergingList:
      - name: foo
        value: a
  modified:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: a
- description: retainKeys list can change a field when no retainKeys directive present
  original:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: a
  twoWay:
    retainKeysMergingList:
      - name: foo
        value: b
  modified:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: b
- description: retainKeys list can delete a field when no retainKeys directive present
  original:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: a
  twoWay:
    retainKeysMergingList:
      - name: foo
        value: null
  modified:
    retainKeysMergingList:
      - name: bar
      - name: foo
- description: preserve the order from the patch in a merging list
  original:
    mergingList:
      - name: 1
      - name: 2
        value: b
      - name: 3
  twoWay:
    mergingList:
      - name: 3
        value: c
      - name: 1
        value: a
      - name: 2
        other: x
  modified:
    mergingList:
      - name: 3
        value: c
      - name: 1
        value: a
      - name: 2
        value: b
        other: x
- description: preserve the order from the patch in a merging list 2
  original:
    mergingList:
      - name: 1
      - name: 2
        value: b
      - name: 3
  twoWay:
    mergingList:
      - name: 3
        value: c
      - name: 1
        value: a
  modified:
    mergingList:
      - name: 2
        value: b
      - name: 3
        value: c
      - name: 1
        value: a
- description: preserve the order from the patch in a merging int list
  original:
    mergingIntList: [1, 2, 3]
  twoWay:
    mergingIntList: [3, 1, 2]
  modified:
    mergingIntList: [3, 1, 2]
- description: preserve the order from the patch in a merging int list (partial)
  original:
    mergingIntList: [1, 2, 3]
  twoWay:
    mergingIntList: [3, 1]
  modified:
    mergingIntList: [2, 3, 1]
`;

/** customStrategicMergePatchRawTestCases. */
export const customRawCases = `
- description: $setElementOrder contains item that is not present in the list to be merged
  original:
    mergingList:
      - name: 1
      - name: 3
  twoWay:
    $setElementOrder/mergingList:
      - name: 3
      - name: 2
      - name: 1
    mergingList:
      - name: 3
        value: 3
      - name: 1
        value: 1
  modified:
    mergingList:
      - name: 3
        value: 3
      - name: 1
        value: 1
- description: $setElementOrder contains item that is not present in the int list to be merged
  original:
    mergingIntList: [1, 3]
  twoWay:
    $setElementOrder/mergingIntList: [3, 2, 1]
  modified:
    mergingIntList: [3, 1]
- description: should check if order in $setElementOrder and patch list match
  original:
    mergingList:
      - name: 1
      - name: 3
      - name: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
      - name: 3
    mergingList:
      - name: 3
        value: 3
      - name: 1
        value: 1
  expectedError: doesn't match
  status:
    code: 500
    reason: ""
    message: "The order in patch list:\\n[map[name:3 value:3] map[name:1 value:1]]\\n doesn't match $setElementOrder list:\\n[map[name:1] map[name:2] map[name:3]]\\n"
- description: should check if order in $setElementOrder and patch int list match
  original:
    mergingIntList: [1, 3, 2]
  twoWay:
    $setElementOrder/mergingIntList: [1, 2, 3]
    mergingIntList: [3, 1]
  expectedError: doesn't match
  status:
    code: 500
    reason: ""
    message: "The order in patch list:\\n[3 1]\\n doesn't match $setElementOrder list:\\n[1 2 3]\\n"
- description: missing merge key should error out
  original:
    mergingList:
      - name: 1
        value: a
  twoWay:
    mergingList:
      - value: b
  expectedError: does not contain declared merge key
  status:
    code: 500
    reason: ""
    message: "map: map[value:b] does not contain declared merge key: name"
- description: $deleteFromPrimitiveList of nonexistent item in primitive list should not add the item to the list
  original:
    mergingIntList: [1, 2]
  twoWay:
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified:
    mergingIntList: [1, 2]
- description: $deleteFromPrimitiveList on empty primitive list should not add the item to the list
  original:
    mergingIntList:
  twoWay:
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified:
    mergingIntList:
- description: $deleteFromPrimitiveList on nonexistent primitive list should not add the primitive list
  original:
    foo: [bar]
  twoWay:
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified:
    foo: [bar]
- description: $deleteFromPrimitiveList should delete item from a list with merge patch strategy
  original:
    mergingIntList: [1, 2, 3]
  twoWay:
    $deleteFromPrimitiveList/mergingIntList: [2]
  modified:
    mergingIntList: [1, 3]
- description: $deleteFromPrimitiveList should delete item from a list without merge patch strategy
  original:
    nonMergingIntList: [1, 2, 3]
  twoWay:
    $deleteFromPrimitiveList/nonMergingIntList: [2]
  modified:
    nonMergingIntList: [1, 3]
`;

/** createStrategicMergePatchTestCaseData (the two-way and three-way patches applied). */
export const createCases = `
- description: nil original
  twoWay:
    name: 1
    value: 1
  modified:
    name: 1
    value: 1
  current:
    name: 1
    other: a
  threeWay:
    value: 1
  result:
    name: 1
    value: 1
    other: a
- description: nil patch
  original:
    name: 1
  twoWay: {}
  modified:
    name: 1
  current:
    name: 1
  threeWay: {}
  result:
    name: 1
- description: add field to map
  original:
    name: 1
  twoWay:
    value: 1
  modified:
    name: 1
    value: 1
  current:
    name: 1
    other: a
  threeWay:
    value: 1
  result:
    name: 1
    value: 1
    other: a
- description: add field to map with conflict
  original:
    name: 1
  twoWay:
    value: 1
  modified:
    name: 1
    value: 1
  current:
    name: a
    other: a
  threeWay:
    name: 1
    value: 1
  result:
    name: 1
    value: 1
    other: a
- description: add field and delete field from map
  original:
    name: 1
  twoWay:
    name: null
    value: 1
  modified:
    value: 1
  current:
    name: 1
    other: a
  threeWay:
    name: null
    value: 1
  result:
    value: 1
    other: a
- description: delete field from nested map
  original:
    simpleMap:
      key1: 1
      key2: 1
  twoWay:
    simpleMap:
      key2: null
  modified:
    simpleMap:
      key1: 1
  current:
    simpleMap:
      key1: 1
      key2: 1
      other: a
  threeWay:
    simpleMap:
      key2: null
  result:
    simpleMap:
      key1: 1
      other: a
- description: delete field from nested map with conflict
  original:
    simpleMap:
      key1: 1
      key2: 1
  twoWay:
    simpleMap:
      key2: null
  modified:
    simpleMap:
      key1: 1
  current:
    simpleMap:
      key1: a
      key2: 1
      other: a
  threeWay:
    simpleMap:
      key1: 1
      key2: null
  result:
    simpleMap:
      key1: 1
      other: a
- description: delete all fields from map
  original:
    name: 1
    value: 1
  twoWay:
    name: null
    value: null
  modified: {}
  current:
    name: 1
    value: 1
    other: a
  threeWay:
    name: null
    value: null
  result:
    other: a
- description: add field and delete all fields from map with conflict
  original:
    name: 1
    value: 1
  twoWay:
    name: null
    value: null
    other: a
  modified:
    other: a
  current:
    name: 1
    value: 1
    other: b
  threeWay:
    name: null
    value: null
    other: a
  result:
    other: a
- description: replace list of scalars
  original:
    nonMergingIntList: [1, 2]
  twoWay:
    nonMergingIntList: [2, 3]
  modified:
    nonMergingIntList: [2, 3]
  current:
    nonMergingIntList: [1, 2]
  threeWay:
    nonMergingIntList: [2, 3]
  result:
    nonMergingIntList: [2, 3]
- description: replace list of scalars with conflict
  original:
    nonMergingIntList: [1, 2]
  twoWay:
    nonMergingIntList: [2, 3]
  modified:
    nonMergingIntList: [2, 3]
  current:
    nonMergingIntList: [1, 4]
  threeWay:
    nonMergingIntList: [2, 3]
  result:
    nonMergingIntList: [2, 3]
- description: delete all maps from merging list
  original:
    mergingList:
      - name: 1
      - name: 2
  twoWay:
    mergingList:
      - name: 1
        $patch: delete
      - name: 2
        $patch: delete
  modified:
    mergingList: []
  current:
    mergingList:
      - name: 1
      - name: 2
  threeWay:
    mergingList:
      - name: 1
        $patch: delete
      - name: 2
        $patch: delete
  result:
    mergingList: []
- description: delete all maps from merging list with conflict
  original:
    mergingList:
      - name: 1
      - name: 2
  twoWay:
    mergingList:
      - name: 1
        $patch: delete
      - name: 2
        $patch: delete
  modified:
    mergingList: []
  current:
    mergingList:
      - name: 1
        other: a
      - name: 2
        other: b
  threeWay:
    mergingList:
      - name: 1
        $patch: delete
      - name: 2
        $patch: delete
  result:
    mergingList: []
- description: delete all maps from empty merging list
  original:
    mergingList:
      - name: 1
      - name: 2
  twoWay:
    mergingList:
      - name: 1
        $patch: delete
      - name: 2
        $patch: delete
  modified:
    mergingList: []
  current:
    mergingList: []
  threeWay:
    mergingList:
      - name: 1
        $patch: delete
      - name: 2
        $patch: delete
  result:
    mergingList: []
- description: defined null values should propagate overwrite current fields (with conflict)
  original:
    name: 2
  twoWay:
    name: 1
    value: 1
    other: null
  twoWayResult:
    name: 1
    value: 1
  modified:
    name: 1
    value: 1
    other: null
  current:
    name: a
    other: a
  threeWay:
    name: 1
    value: 1
    other: null
  result:
    name: 1
    value: 1
- description: defined null values should propagate removing original fields
  original:
    name: original-name
    value: original-value
  current:
    name: original-name
    value: original-value
    other: current-other
  modified:
    name: modified-name
    value: null
  twoWay:
    name: modified-name
    value: null
  twoWayResult:
    name: modified-name
  threeWay:
    name: modified-name
    value: null
  result:
    name: modified-name
    other: current-other
- description: retainKeys map with no change should not be present
  original:
    name: a
    retainKeysMap:
      name: foo
  current:
    name: a
    other: c
    retainKeysMap:
      name: foo
  modified:
    name: a
    value: b
    retainKeysMap:
      name: foo
  twoWay:
    value: b
  threeWay:
    value: b
  result:
    name: a
    value: b
    other: c
    retainKeysMap:
      name: foo
`;

/** strategicMergePatchRawTestCases: order-sensitive, compared exactly upstream too. */
export const rawCases = `
- description: nested patch merge with empty list
  original:
    name: hi
  current:
    name: hi
    mergingList:
      - name: hello2
  modified:
    name: hi
    mergingList:
      - name: hello
      - $patch: delete
        name: doesntexist
  twoWay:
    mergingList:
      - name: hello
      - $patch: delete
        name: doesntexist
  threeWay:
    $setElementOrder/mergingList:
      - name: hello
      - name: doesntexist
    mergingList:
      - name: hello
      - $patch: delete
        name: doesntexist
  twoWayResult:
    name: hi
    mergingList:
      - name: hello
  result:
    name: hi
    mergingList:
      - name: hello
      - name: hello2
- description: delete items in lists of scalars
  original:
    mergingIntList: [1, 2, 3]
  twoWay:
    $setElementOrder/mergingIntList: [1, 2]
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified:
    mergingIntList: [1, 2]
  current:
    mergingIntList: [1, 2, 3, 4]
  threeWay:
    $setElementOrder/mergingIntList: [1, 2]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result:
    mergingIntList: [1, 2, 4]
- description: delete all duplicate items in lists of scalars
  original:
    mergingIntList: [1, 2, 3, 3]
  twoWay:
    $setElementOrder/mergingIntList: [1, 2]
    $deleteFromPrimitiveList/mergingIntList: [3]
  modified:
    mergingIntList: [1, 2]
  current:
    mergingIntList: [1, 2, 3, 3, 4]
  threeWay:
    $setElementOrder/mergingIntList: [1, 2]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result:
    mergingIntList: [1, 2, 4]
- description: add and delete items in lists of scalars
  original:
    mergingIntList: [1, 2, 3]
  twoWay:
    $setElementOrder/mergingIntList: [1, 2, 4]
    $deleteFromPrimitiveList/mergingIntList: [3]
    mergingIntList: [4]
  modified:
    mergingIntList: [1, 2, 4]
  current:
    mergingIntList: [1, 2, 3, 4]
  threeWay:
    $setElementOrder/mergingIntList: [1, 2, 4]
    $deleteFromPrimitiveList/mergingIntList: [3]
  result:
    mergingIntList: [1, 2, 4]
- description: merge lists of maps
  original:
    mergingList:
      - name: 1
      - name: 2
        value: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 4
      - name: 1
      - name: 2
      - name: 3
    mergingList:
      - name: 4
        value: 4
      - name: 3
        value: 3
  modified:
    mergingList:
      - name: 4
        value: 4
      - name: 1
      - name: 2
        value: 2
      - name: 3
        value: 3
  current:
    mergingList:
      - name: 1
        other: a
      - name: 2
        value: 2
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 4
      - name: 1
      - name: 2
      - name: 3
    mergingList:
      - name: 4
        value: 4
      - name: 3
        value: 3
  result:
    mergingList:
      - name: 4
        value: 4
      - name: 1
        other: a
      - name: 2
        value: 2
        other: b
      - name: 3
        value: 3
- description: merge lists of maps with conflict
  original:
    mergingList:
      - name: 1
      - name: 2
        value: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
      - name: 3
    mergingList:
      - name: 3
        value: 3
  modified:
    mergingList:
      - name: 1
      - name: 2
        value: 2
      - name: 3
        value: 3
  current:
    mergingList:
      - name: 1
        other: a
      - name: 2
        value: 3
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
      - name: 3
    mergingList:
      - name: 2
        value: 2
      - name: 3
        value: 3
  result:
    mergingList:
      - name: 1
        other: a
      - name: 2
        value: 2
        other: b
      - name: 3
        value: 3
- description: add field to map in merging list
  original:
    mergingList:
      - name: 1
      - name: 2
        value: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: 1
  modified:
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  current:
    mergingList:
      - name: 1
        other: a
      - name: 2
        value: 2
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: 1
  result:
    mergingList:
      - name: 1
        value: 1
        other: a
      - name: 2
        value: 2
        other: b
- description: add field to map in merging list with conflict
  original:
    mergingList:
      - name: 1
      - name: 2
        value: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: 1
  modified:
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  current:
    mergingList:
      - name: 1
        other: a
      - name: 3
        value: 2
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  result:
    mergingList:
      - name: 1
        value: 1
        other: a
      - name: 2
        value: 2
      - name: 3
        value: 2
        other: b
- description: add an item that already exists in current object in merging list
  original:
    mergingList:
      - name: 1
        value: a
      - name: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
      - name: 3
    mergingList:
      - name: 3
  modified:
    mergingList:
      - name: 1
        value: a
      - name: 2
      - name: 3
  current:
    mergingList:
      - name: 1
        value: a
        other: x
      - name: 2
      - name: 3
  threeWay: {}
  result:
    mergingList:
      - name: 1
        value: a
        other: x
      - name: 2
      - name: 3
- description: add duplicate field to map in merging list with conflict
  original:
    mergingList:
      - name: 1
      - name: 2
        value: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: 1
  modified:
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  current:
    mergingList:
      - name: 1
        value: 1
        other: a
      - name: 2
        value: 3
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 2
        value: 2
  result:
    mergingList:
      - name: 1
        value: 1
        other: a
      - name: 2
        value: 2
        other: b
- description: replace map field value in merging list
  original:
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: a
  modified:
    mergingList:
      - name: 1
        value: a
      - name: 2
        value: 2
  current:
    mergingList:
      - name: 1
        value: 1
        other: a
      - name: 2
        value: 2
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: a
  result:
    mergingList:
      - name: 1
        value: a
        other: a
      - name: 2
        value: 2
        other: b
- description: delete map from merging list
  original:
    mergingList:
      - name: 1
      - name: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 2
    mergingList:
      - name: 1
        $patch: delete
  modified:
    mergingList:
      - name: 2
  current:
    mergingList:
      - name: 1
      - name: 2
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 2
    mergingList:
      - name: 1
        $patch: delete
  result:
    mergingList:
      - name: 2
        other: b
- description: delete missing map from merging list with conflict
  original:
    mergingList:
      - name: 1
      - name: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 2
    mergingList:
      - name: 1
        $patch: delete
  modified:
    mergingList:
      - name: 2
  current:
    mergingList:
      - name: 3
        other: a
  threeWay:
    $setElementOrder/mergingList:
      - name: 2
    mergingList:
      - name: 2
      - name: 1
        $patch: delete
  result:
    mergingList:
      - name: 2
      - name: 3
        other: a
- description: add map and delete map from merging list
  original:
    mergingList:
      - name: 1
      - name: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 2
      - name: 3
    mergingList:
      - name: 3
      - name: 1
        $patch: delete
  modified:
    mergingList:
      - name: 2
      - name: 3
  current:
    mergingList:
      - name: 1
      - name: 2
        other: b
      - name: 4
        other: c
  threeWay:
    $setElementOrder/mergingList:
      - name: 2
      - name: 3
    mergingList:
      - name: 3
      - name: 1
        $patch: delete
  result:
    mergingList:
      - name: 2
        other: b
      - name: 4
        other: c
      - name: 3
- description: add map and delete map from merging list with conflict
  original:
    mergingList:
      - name: 1
      - name: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 2
      - name: 3
    mergingList:
      - name: 3
      - name: 1
        $patch: delete
  modified:
    mergingList:
      - name: 2
      - name: 3
  current:
    mergingList:
      - name: 1
        other: a
      - name: 4
        other: c
  threeWay:
    $setElementOrder/mergingList:
      - name: 2
      - name: 3
    mergingList:
      - name: 2
      - name: 3
      - name: 1
        $patch: delete
  result:
    mergingList:
      - name: 4
        other: c
      - name: 2
      - name: 3
- description: delete field from map in merging list
  original:
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: null
  modified:
    mergingList:
      - name: 1
      - name: 2
        value: 2
  current:
    mergingList:
      - name: 1
        value: 1
        other: a
      - name: 2
        value: 2
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: null
  result:
    mergingList:
      - name: 1
        other: a
      - name: 2
        value: 2
        other: b
- description: delete missing field from map in merging list with conflict
  original:
    mergingList:
      - name: 1
        value: 1
      - name: 2
        value: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: null
  modified:
    mergingList:
      - name: 1
      - name: 2
        value: 2
  current:
    mergingList:
      - name: 1
        other: a
      - name: 2
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        value: null
      - name: 2
        value: 2
  result:
    mergingList:
      - name: 1
        other: a
      - name: 2
        value: 2
        other: b
- description: replace non merging list nested in merging list
  original:
    mergingList:
      - name: 1
        nonMergingList:
          - name: 1
          - name: 2
            value: 2
      - name: 2
  twoWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        nonMergingList:
          - name: 1
            value: 1
  modified:
    mergingList:
      - name: 1
        nonMergingList:
          - name: 1
            value: 1
      - name: 2
  current:
    mergingList:
      - name: 1
        other: a
        nonMergingList:
          - name: 1
          - name: 2
            value: 2
      - name: 2
        other: b
  threeWay:
    $setElementOrder/mergingList:
      - name: 1
      - name: 2
    mergingList:
      - name: 1
        nonMergingList:
          - name: 1
            value: 1
  result:
    mergingList:
      - name: 1
        other: a
        nonMergingList:
          - name: 1
            value: 1
      - name: 2
        other: b
- description: retainKeys list of maps changes a field and clear a field with conflict
  original:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: old
  current:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: modified
        other: x
  modified:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: new
  twoWay:
    $setElementOrder/retainKeysMergingList:
      - name: bar
      - name: foo
    retainKeysMergingList:
      - $retainKeys: [name, value]
        name: foo
        value: new
  threeWay:
    $setElementOrder/retainKeysMergingList:
      - name: bar
      - name: foo
    retainKeysMergingList:
      - $retainKeys: [name, value]
        name: foo
        value: new
  result:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: new
- description: retainKeys list of maps adds a field and clear a field
  original:
    retainKeysMergingList:
      - name: bar
      - name: foo
  current:
    retainKeysMergingList:
      - name: bar
      - name: foo
        other: x
  modified:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: a
  twoWay:
    $setElementOrder/retainKeysMergingList:
      - name: bar
      - name: foo
    retainKeysMergingList:
      - $retainKeys: [name, value]
        name: foo
        value: a
  threeWay:
    $setElementOrder/retainKeysMergingList:
      - name: bar
      - name: foo
    retainKeysMergingList:
      - $retainKeys: [name, value]
        name: foo
        value: a
  result:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: a
- description: retainKeys list of maps deletes a field and clear a field
  original:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: a
  current:
    retainKeysMergingList:
      - name: bar
      - name: foo
        value: a
        other: x
  modified:
    retainKeysMergingList:
      - name: bar
      - name: foo
  twoWay:
    $setElementOrder/retainKeysMergingList:
      - name: bar
      - name: foo
    retainKeysMergingList:
      - $retainKeys: [name]
        name: foo
        value: null
  threeWay:
    $setElementOrder/retainKeysMergingList:
      - name: bar
      - name: foo
    retainKeysMergingList:
      - $retainKeys: [name]
        name: foo
        value: null
  result:
    retainKeysMergingList:
      - name: bar
      - name: foo
- description: delete and reorder in one list, reorder in another
  original:
    mergingList:
      - name: a
        value: a
      - name: b
        value: b
    mergeItemPtr:
      - name: c
        value: c
      - name: d
        value: d
  current:
    mergingList:
      - name: a
        value: a
      - name: b
        value: b
    mergeItemPtr:
      - name: c
        value: c
      - name: d
        value: d
  modified:
    mergingList:
      - name: b
        value: b
    mergeItemPtr:
      - name: d
        value: d
      - name: c
        value: c
  twoWay:
    $setElementOrder/mergingList:
      - name: b
    $setElementOrder/mergeItemPtr:
      - name: d
      - name: c
    mergingList:
      - $patch: delete
        name: a
  threeWay:
    $setElementOrder/mergingList:
      - name: b
    $setElementOrder/mergeItemPtr:
      - name: d
      - name: c
    mergingList:
      - $patch: delete
        name: a
  result:
    mergingList:
      - name: b
        value: b
    mergeItemPtr:
      - name: d
        value: d
      - name: c
        value: c
`;
