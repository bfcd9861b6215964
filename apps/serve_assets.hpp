// SPDX-License-Identifier: MIT
// The files of the page at GET / (web/dist), built into the executable so that the service
// needs no files beside it and the C++ build needs no Node.js. scripts/web_build.sh bundles the
// page and writes their bytes into apps/serve_assets.cpp.
#pragma once

#include <span>
#include <string_view>

namespace gasm::app {

struct WebAsset {
    std::string_view path;          // URL path: "/index.html", "/app.js"
    std::string_view content_type;  // "text/html; charset=utf-8"
    std::string_view body;
};

std::span<const WebAsset> web_assets();

}  // namespace gasm::app
