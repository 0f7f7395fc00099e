"""The sample-drop generator (``python -m hzeval.samples``): deterministic drops for the demo,
the tests and the benchmarks. Imports the contract and the store only."""

from hzeval.samples.generator import (
    AS_OF,
    AUTHORITY,
    DEFAULT_SEED,
    NO_CATALOGUE,
    NO_COLLECTION_LIST,
    REFERENCE_UNITS,
    SIZES,
    VETO_AGENCY,
    YEARS,
    generate,
    main,
    profiles,
    write_drop,
    write_sized_drop,
)

__all__ = [
    "AS_OF",
    "AUTHORITY",
    "DEFAULT_SEED",
    "NO_CATALOGUE",
    "NO_COLLECTION_LIST",
    "REFERENCE_UNITS",
    "SIZES",
    "VETO_AGENCY",
    "YEARS",
    "generate",
    "main",
    "profiles",
    "write_drop",
    "write_sized_drop",
]
