"""Completions for MultiPL-E's HumanEval_0_has_close_elements (which has no canonical solution), one
right and one wrong per language, written here. Where MultiPL-E's tests start with the closing brace
(cpp, java, rs, sh) the completion is the body only; elsewhere it also closes the function."""

from __future__ import annotations

# language -> (MultiPL-E file suffix, right completion, wrong completion)
BODIES: dict[str, tuple[str, str, str]] = {
    "cpp": (
        "cpp",
        "    for (size_t i = 0; i < numbers.size(); i++)\n"
        "        for (size_t j = i + 1; j < numbers.size(); j++)\n"
        "            if (std::abs(numbers[i] - numbers[j]) < threshold) return true;\n"
        "    return false;\n",
        "    return false;\n",
    ),
    "java": (
        "java",
        "        for (int i = 0; i < numbers.size(); i++)\n"
        "            for (int j = i + 1; j < numbers.size(); j++)\n"
        "                if (Math.abs(numbers.get(i) - numbers.get(j)) < threshold) return true;\n"
        "        return false;\n",
        "        return false;\n",
    ),
    "javascript": (
        "js",
        "  for (let i = 0; i < numbers.length; i++)\n"
        "    for (let j = i + 1; j < numbers.length; j++)\n"
        "      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
        "  return false;\n}\n",
        "  return false;\n}\n",
    ),
    "typescript": (
        "ts",
        "  for (let i = 0; i < numbers.length; i++)\n"
        "    for (let j = i + 1; j < numbers.length; j++)\n"
        "      if (Math.abs(numbers[i] - numbers[j]) < threshold) return true;\n"
        "  return false;\n}\n",
        "  return false;\n}\n",
    ),
    "go": (
        "go",
        "    for i := range numbers {\n"
        "        for j := i + 1; j < len(numbers); j++ {\n"
        "            d := numbers[i] - numbers[j]\n"
        "            if d < 0 {\n                d = -d\n            }\n"
        "            if d < threshold {\n                return true\n            }\n"
        "        }\n    }\n    return false\n}\n",
        "    return false\n}\n",
    ),
    "rust": (
        "rs",
        "    for i in 0..numbers.len() {\n"
        "        for j in (i + 1)..numbers.len() {\n"
        "            if (numbers[i] - numbers[j]).abs() < threshold { return true; }\n"
        "        }\n    }\n    false\n",
        "    false\n",
    ),
    "ruby": (
        "rb",
        "  numbers.combination(2).any? { |a, b| (a - b).abs < threshold }\nend\n",
        "  false\nend\n",
    ),
    "lua": (
        "lua",
        "  for i = 1, #numbers do\n    for j = i + 1, #numbers do\n"
        "      if math.abs(numbers[i] - numbers[j]) < threshold then return true end\n"
        "    end\n  end\n  return false\nend\n",
        "  return false\nend\n",
    ),
    "php": (
        "php",
        "    for ($i = 0; $i < count($numbers); $i++)\n"
        "        for ($j = $i + 1; $j < count($numbers); $j++)\n"
        "            if (abs($numbers[$i] - $numbers[$j]) < $threshold) return true;\n"
        "    return false;\n}\n",
        "    return false;\n}\n",
    ),
    "perl": (
        "pl",
        "    for my $i (0 .. $#$numbers) {\n        for my $j ($i + 1 .. $#$numbers) {\n"
        "            return 1 if abs($numbers->[$i] - $numbers->[$j]) < $threshold;\n"
        '        }\n    }\n    return "";\n}\n',
        '    return "";\n}\n',
    ),
    "bash": (
        "sh",
        "    local -a a=($1)\n    local i j\n"
        "    for ((i = 0; i < ${#a[@]}; i++)); do\n"
        "        for ((j = i + 1; j < ${#a[@]}; j++)); do\n"
        '            if awk -v x="${a[i]}" -v y="${a[j]}" -v t="$2" '
        "'BEGIN { d = x - y; if (d < 0) d = -d; exit !(d < t) }'; then echo true; return; fi\n"
        "        done\n    done\n    echo false\n",
        "    echo false\n",
    ),
    "csharp": (
        "cs",
        "        for (int i = 0; i < numbers.Count; i++)\n"
        "            for (int j = i + 1; j < numbers.Count; j++)\n"
        "                if (Math.Abs(numbers[i] - numbers[j]) < threshold) return true;\n"
        "        return false;\n",
        "        return false;\n",
    ),
    "d": (
        "d",
        "{\n    foreach (i; 0 .. numbers.length)\n        foreach (j; i + 1 .. numbers.length)\n"
        "            if (abs(numbers[i] - numbers[j]) < threshold) return true;\n    return false;\n}\n",
        "{\n    return false;\n}\n",
    ),
    "elixir": (
        "elixir",
        "    Enum.any?(Enum.with_index(numbers), fn {x, i} ->\n"
        "      Enum.any?(Enum.drop(numbers, i + 1), fn y -> abs(x - y) < threshold end)\n"
        "    end)\n  end\nend\n",
        "    false\n  end\nend\n",
    ),
    "haskell": (
        "hs",
        " or [abs (x - y) < threshold | (i, x) <- zip [0 :: Int ..] numbers,"
        " (j, y) <- zip [0 ..] numbers, i < j]\n",
        " False\n",
    ),
    "ocaml": (
        "ml",
        "  let rec go = function\n    | [] -> false\n"
        "    | x :: rest -> List.exists (fun y -> Float.abs (x -. y) < threshold) rest || go rest\n"
        "  in go numbers\n",
        "  false\n",
    ),
    "r": (
        "r",
        "  n <- length(numbers)\n  if (n < 2) return(FALSE)\n"
        "  for (i in 1:(n - 1)) for (j in (i + 1):n)\n"
        "    if (abs(numbers[i] - numbers[j]) < threshold) return(TRUE)\n  FALSE\n}\n",
        "  FALSE\n}\n",
    ),
    "racket": (
        "rkt",
        "  (for*/or ([i (in-range (length numbers))] [j (in-range (add1 i) (length numbers))])\n"
        "    (< (abs (- (list-ref numbers i) (list-ref numbers j))) threshold)))\n",
        "  #f)\n",
    ),
    "scala": (
        "scala",
        "        numbers.indices.exists(i => (i + 1 until numbers.length)"
        ".exists(j => abs(numbers(i) - numbers(j)) < threshold))\n",
        "        false\n",
    ),
}
