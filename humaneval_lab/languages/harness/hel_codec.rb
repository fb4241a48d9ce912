# frozen_string_literal: true

# Values crossing between the Ruby judge and the candidate process (humaneval_lab/languages/ruby.py).
#
# One JSON message a line. Plain JSON carries nil, true, false, Integer (any size), finite Float
# (written by Float#to_s, so it reads back bit for bit) and UTF-8 String; Array is a JSON array.
# Everything else is a one-key object, so nothing is ambiguous and `==` in the tests compares what
# it would have compared in one process:
#   {"$f": "nan"|"inf"|"-inf"}  non-finite Float      {"$sym": "name"}           Symbol
#   {"$hash": [[k, v], ...]}    Hash, any key type    {"$rat": [num, den]}       Rational
#   {"$s": hex, "$enc": name}   a String that is not valid UTF-8 (bytes + its encoding)
# Subclasses of Array, Hash and String cross by value (as Array#== etc. compare them); any other
# object cannot cross. The judge decodes with `decode`, which builds fresh plain objects and never
# runs code the candidate wrote (JSON.parse without additions, then a strict walk).
require 'json'

module HelCodec
  MAX_LINE = 8 << 20 # bytes in one message; a longer answer is the candidate's error
  MAX_DEPTH = 256 # nesting of values (a self-containing Array ends here too)
  MAX_NODES = 2_000_000 # values in one message (shared sub-objects count each time)

  class Unencodable < StandardError; end
  class BadMessage < StandardError; end

  module_function

  def encode(value)
    budget = [MAX_NODES]
    enc(value, 0, budget)
  end

  def enc(v, depth, budget)
    raise Unencodable, 'nested too deeply' if depth > MAX_DEPTH
    raise Unencodable, 'too large' if (budget[0] -= 1).negative?

    case v
    when nil, true, false, Integer then v
    when Float
      if v.nan? then { '$f' => 'nan' }
      elsif v.infinite? then { '$f' => v.positive? ? 'inf' : '-inf' }
      else v
      end
    when String then enc_string(String.new(v))
    when Symbol then { '$sym' => enc_string(v.to_s) }
    when Array then v.to_a.map { |x| enc(x, depth + 1, budget) }
    when Hash then { '$hash' => v.to_h.map { |k, x| [enc(k, depth + 1, budget), enc(x, depth + 1, budget)] } }
    when Rational then { '$rat' => [v.numerator, v.denominator] }
    else
      raise Unencodable, "a #{v.class} cannot cross (nil, true, false, Integer, Float, Rational, " \
                         'String, Symbol, Array and Hash can)'
    end
  end

  def enc_string(s)
    return s if s.encoding == Encoding::UTF_8 && s.valid_encoding?
    return s.dup.force_encoding(Encoding::UTF_8) if s.encoding.ascii_compatible? && s.ascii_only?

    { '$s' => s.unpack1('H*'), '$enc' => s.encoding.name }
  end

  # One message line (without its newline) -> a Hash of JSON values; BadMessage if it is not one.
  def parse(line)
    msg = JSON.parse(line, max_nesting: 3 * MAX_DEPTH + 8, allow_nan: false, create_additions: false,
                           object_class: Hash, array_class: Array, freeze: false)
    raise BadMessage, 'not a JSON object' unless msg.instance_of?(Hash)

    msg
  rescue JSON::ParserError, JSON::NestingError, EncodingError, ArgumentError => e
    raise BadMessage, "not JSON (#{e.class})"
  end

  def decode(j)
    budget = [MAX_NODES]
    dec(j, 0, budget)
  end

  def dec(j, depth, budget)
    raise BadMessage, 'nested too deeply' if depth > MAX_DEPTH
    raise BadMessage, 'too large' if (budget[0] -= 1).negative?

    if j.nil? || j == true || j == false || j.instance_of?(Integer) || j.instance_of?(Float)
      j
    elsif j.instance_of?(String)
      raise BadMessage, 'a string that is not UTF-8' unless j.valid_encoding?

      j
    elsif j.instance_of?(Array)
      j.map { |x| dec(x, depth + 1, budget) }
    elsif j.instance_of?(Hash)
      dec_tagged(j, depth, budget)
    else
      raise BadMessage, "a #{j.class}"
    end
  end

  def dec_tagged(j, depth, budget)
    keys = j.keys.sort
    if keys == ['$f']
      { 'nan' => Float::NAN, 'inf' => Float::INFINITY, '-inf' => -Float::INFINITY }.fetch(j['$f']) do
        raise BadMessage, 'a bad $f'
      end
    elsif keys == ['$sym']
      s = j['$sym']
      s = dec_tagged(s, depth, budget) if s.instance_of?(Hash)
      raise BadMessage, 'a bad $sym' unless s.instance_of?(String) && s.valid_encoding?

      s.to_sym
    elsif keys == ['$hash']
      pairs = j['$hash']
      raise BadMessage, 'a bad $hash' unless pairs.instance_of?(Array)

      h = {}
      pairs.each do |pair|
        raise BadMessage, 'a bad $hash pair' unless pair.instance_of?(Array) && pair.size == 2

        k = dec(pair[0], depth + 1, budget)
        raise BadMessage, 'a duplicate $hash key' if h.key?(k)

        h[k] = dec(pair[1], depth + 1, budget)
      end
      h
    elsif keys == ['$rat']
      n, d = j['$rat']
      unless j['$rat'].instance_of?(Array) && j['$rat'].size == 2 && n.instance_of?(Integer) &&
             d.instance_of?(Integer) && d.positive?
        raise BadMessage, 'a bad $rat'
      end

      Rational(n, d)
    elsif keys == ['$enc', '$s']
      hex, name = j['$s'], j['$enc']
      raise BadMessage, 'a bad $s' unless hex.instance_of?(String) && hex.match?(/\A(?:[0-9a-f]{2})*\z/)
      raise BadMessage, 'a bad $enc' unless name.instance_of?(String) && name.match?(/\A[\w.:-]{1,40}\z/)

      begin
        [hex].pack('H*').force_encoding(Encoding.find(name))
      rescue ArgumentError
        raise BadMessage, 'an unknown encoding'
      end
    else
      raise BadMessage, "an object that is no value (#{keys.first(3).join(', ')[0, 60]})"
    end
  end

  def line(obj)
    "#{JSON.generate(obj)}\n"
  end
end
