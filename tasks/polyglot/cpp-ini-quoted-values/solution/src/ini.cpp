#include "confkit/ini.hpp"

#include <algorithm>

#include "confkit/strings.hpp"

namespace confkit {
namespace {

// Whether `rest` (what follows a value) is empty or only an inline comment.
bool only_comment(std::string_view rest) {
    rest = trim(rest);
    return rest.empty() || rest.front() == ';' || rest.front() == '#';
}

// A quoted value: `raw` starts with '"'. Escapes are resolved in one left-to-right pass, so an
// escaped backslash never combines with the character after it.
std::string parse_quoted(std::string_view raw, int line_no) {
    std::string out;
    for (std::size_t i = 1; i < raw.size(); ++i) {
        const char c = raw[i];
        if (c == '"') {
            const std::string_view rest = raw.substr(i + 1);
            if (!rest.empty() && (!is_blank(rest.front()) || !only_comment(rest))) {
                throw ParseError(line_no, "unexpected text after the closing quote");
            }
            return out;
        }
        if (c == '\\' && i + 1 < raw.size()) {
            const char next = raw[i + 1];
            switch (next) {
                case '"': out += '"'; ++i; continue;
                case '\\': out += '\\'; ++i; continue;
                case 'n': out += '\n'; ++i; continue;
                case 't': out += '\t'; ++i; continue;
                default: break;  // any other backslash is kept as is
            }
        }
        out += c;
    }
    throw ParseError(line_no, "quote is never closed");
}

// The value of a `key = value` line: quotes resolved, or inline comment removed and blanks trimmed.
std::string parse_value(std::string_view raw, int line_no) {
    raw = trim(raw);
    if (!raw.empty() && raw.front() == '"') {
        return parse_quoted(raw, line_no);
    }
    for (std::size_t i = 1; i < raw.size(); ++i) {
        if ((raw[i] == ';' || raw[i] == '#') && is_blank(raw[i - 1])) {
            raw = raw.substr(0, i);
            break;
        }
    }
    return std::string(trim(raw));
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
