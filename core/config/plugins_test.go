package config

// Real plugins whose own configtest checks have golden cases in
// testdata/errors (the core itself never imports a plugin; its tests may).
import (
	_ "github.com/gostash/gostash/plugins/filters/dissect" // dissect_mapping.hcl
)
