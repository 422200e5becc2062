// Compiled only by test_layering_refuses_upward_include: a model-layer file
// that reaches up into the SAE layer. The build must refuse it.
#include "core/model/model.h"
#include "core/sae/sae.h"
