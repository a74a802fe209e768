// Extra labelled images to train a classifier on beside its real training set: synthetic samples
// from `ganforge augment`, or any labelled set. Read from an idx pair (FILE.idx[.gz] with
// FILE.labels.idx[.gz] beside it), an idx directory's training split, or an ImageFolder tree
// (DIR/<class name>/*.png), and checked against the set they join.
#pragma once

#include <string>

#include "data/dataset.h"

namespace gf {

// The images at `path` as a Dataset shaped like `like` (a labelled image set): the same
// channels and size, and labels renumbered to `like`'s classes (by name when the extra set names
// its classes: folder names, or classes.txt; a name must be one of `like`'s class names, or, when
// `like` has none, a class index). gf::Error naming the file for a missing path, no labels, an
// image of another shape, or a class that `like` does not have.
Dataset load_labelled_like(const std::string& path, const Dataset& like);

}  // namespace gf
