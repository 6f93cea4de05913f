package profile_test

import "os"
import "strconv"

var benchN = func() int { n, err := strconv.Atoi(os.Getenv("BENCHN")); if err != nil { return 256 }; return n }()
