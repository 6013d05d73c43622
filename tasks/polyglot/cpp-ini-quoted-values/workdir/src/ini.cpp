#include "confkit/ini.hpp"

#include <algorithm>

#include "confkit/strings.hpp"

namespace confkit {
namespace {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
    for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) {
        s.replace(pos, from.size(), to);
    }
}

// Resolves the escapes of a quoted value.
std::string unescape(std::string s) {
    replace_all(s, "\\\"", "\"");
    replace_all(s, "\\n", "\n");
    replace_all(s, "\\t", "\t");
    replace_all(s, "\\\\", "\\");
    return s;
}

// The value of a `key = value` line: inline comment removed, blanks trimmed, quotes resolved.
std::string parse_value(std::string_view raw, int /*line_no*/) {
    for (std::size_t i = 1; i < raw.size(); ++i) {
        if ((raw[i] == ';' || raw[i] == '#') && is_blank(raw[i - 1])) {
            raw = raw.substr(0, i);
            break;
        }
    }
    std::string_view value = trim(raw);
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
        return unescape(std::string(value.substr(1, value.size() - 2)));
    }
    return std::string(value);
}

}  // namespace

ParseError::ParseError(int line, const std::string& what)
    : std::runtime_error("line " + std::to_string(line) + ": " + what), line_(line) {}

IniFile IniFile::parse(std::string_view text) {
    IniFile ini;
    std::string section;
    int line_no = 0;
    while (!text.empty()) {
        ++line_no;
        const std::size_t nl = text.find('\n');
        std::string_view line = trim(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

        if (line.empty() || line.front() == ';' || line.front() == '#') continue;
        if (line.front() == '[') {
            const std::size_t close = line.find(']');
            if (close == std::string_view::npos) throw ParseError(line_no, "section header without ']'");
            section = to_lower(trim(line.substr(1, close - 1)));
            if (std::find(ini.order_.begin(), ini.order_.end(), section) == ini.order_.end()) {
                ini.order_.push_back(section);
            }
            continue;
        }
        const std::size_t eq = line.find('=');
        if (eq == std::string_view::npos) throw ParseError(line_no, "expected 'key = value'");
        const std::string key = to_lower(trim(line.substr(0, eq)));
        if (key.empty()) throw ParseError(line_no, "empty key");
        if (section.empty() && std::find(ini.order_.begin(), ini.order_.end(), "") == ini.order_.end()) {
            ini.order_.insert(ini.order_.begin(), "");
        }
        ini.values_[section][key] = parse_value(line.substr(eq + 1), line_no);
    }
    return ini;
}

std::optional<std::string> IniFile::get(std::string_view section, std::string_view key) const {
    const auto s = values_.find(to_lower(section));
    if (s == values_.end()) return std::nullopt;
    const auto k = s->second.find(to_lower(key));
    if (k == s->second.end()) return std::nullopt;
    return k->second;
}

std::string IniFile::get_or(std::string_view section, std::string_view key, std::string fallback) const {
    return get(section, key).value_or(std::move(fallback));
}

std::vector<std::string> IniFile::sections() const {
    return order_;
}

std::vector<std::string> IniFile::keys(std::string_view section) const {
    std::vector<std::string> out;
    const auto s = values_.find(to_lower(section));
    if (s != values_.end()) {
        for (const auto& [key, value] : s->second) out.push_back(key);
    }
    return out;
}

}  // namespace confkit
