# A stand-in for logstash-patterns-core's spec_helper: it runs the spec
# files, but instead of matching it records each grok run (settings and
# message) and each expectation on its result as data.
require 'json'

module Port
  @vectors = []
  @unported = []
  class << self; attr_accessor :vectors, :unported, :current, :vacuous; end

  class Run
    attr_reader :settings, :input, :checks
    def initialize(settings, input)
      @settings, @input, @checks = settings, input, []
    end
    # settings as gostash's grok takes them: match as a map of lists,
    # ecs_compatibility as a string (the suite's default is legacy)
    def to_h
      s = @settings.dup
      m = s.delete('match')
      m = Hash[*m] if m.is_a?(Array)
      s['match'] = m.transform_values { |v| Array(v) }
      s['ecs_compatibility'] = (s['ecs_compatibility'] || :disabled).to_s
      {settings: s, input: @input, checks: @checks}
    end
  end

  # A value of the event after grok: where it is, not what it is.
  class Ref
    attr_reader :run, :path, :conv
    def initialize(run, path, conv = nil); @run, @path, @conv = run, path, conv; end
    def [](k)
      raise "index after conversion" if conv
      Ref.new(run, path + [k])
    end
    def get(ref)
      Ref.new(run, path + ref.to_s.scan(/[^\[\]]+/))
    end
    def to_hash; self; end
    def keys; Ref.new(run, path, 'keys'); end
    def last = self[-1]
    def first = self[0]
    def to_i; Ref.new(run, path, 'to_i'); end
    def to_s; Ref.new(run, path, 'to_s'); end
    def include?(k)
      raise "include? on event result used as a value (#{path.inspect} #{k.inspect})" unless k == 'tags' && path.empty?
      raise "include?('tags') as a value"
    end
    def method_missing(m, *a)
      raise NoMethodError, "grok result: #{m} not recorded (path #{path.inspect})"
    end
    def respond_to_missing?(*) = false
  end

  class HashIncluding
    attr_reader :h
    def initialize(h); @h = h; end
  end

  def self.enc(v)
    case v
    when HashIncluding then {'$partial' => v.h.transform_values { |x| enc(x) }}
    when Hash then v.transform_keys(&:to_s).transform_values { |x| enc(x) }
    when Array then v.map { |x| enc(x) }
    when Symbol then v.to_s
    when Regexp then {'$regexp' => v.source}
    when Ref then raise "a grok result compared with another"
    else v
    end
  end

  Matcher = Struct.new(:op, :args)

  class Expectation
    def initialize(actual); @actual = actual; end
    def to(m, *) = record(m, false)
    def to_not(m, *) = record(m, true)
    alias not_to to_not
    def record(m, negate)
      a = @actual
      if m.op == :match_pattern # expect("NAME").to match(value)
        raise "match on #{a.class}" unless a.is_a?(String)
        run = Port.grok({"match" => ["message", "%{#{a}}"]}, m.args[0])
        a = Ref.new(run, [])
        m = Matcher.new(:pass, [])
      end
      unless a.is_a?(Ref)
        # a plain Ruby value (a let): check it here, as RSpec would
        ok = case m.op
             when :start_with then a.start_with?(*m.args)
             when :end_with then a.end_with?(*m.args)
             when :include then m.args.all? { |x| a.include?(x) }
             when :eq then a == m.args[0]
             else raise "#{m.op} on a plain value"
             end
        raise "the spec's own check on a plain value failed" if ok == negate
        return
      end
      check = {'op' => m.op.to_s, 'path' => a.path}
      check['conv'] = a.conv if a.conv
      check['not'] = true if negate
      case m.op
      when :include then check['values'] = m.args.map { |x| Port.enc(x) }
      when :eq, :start_with, :end_with then check['value'] = Port.enc(m.args[0])
      when :be_nil, :pass then nil
      when :be_a then check['value'] = m.args[0].name
      when :have_key then check['value'] = m.args[0].to_s
      when :regexp then check['value'] = m.args[0].source
      else raise "matcher #{m.op}"
      end
      a.run.checks << check
    end
  end

  def self.grok(opts, message)
    run = Run.new(opts, message)
    (Port.current ||= []) << run
    run
  end

  class Grok
    def initialize(opts); @opts = opts.dup; end
    def register; end
    def filter(event)
      raise "event filtered twice" if event.run
      event.run = Port.grok(@opts, event.message)
    end
  end

  class Event
    attr_accessor :run
    attr_reader :message
    def initialize(h)
      raise "event with more than message: #{h.keys}" unless h.keys == ['message']
      @message = h['message']
    end
    def to_hash = Ref.new(run, [])
    def get(ref) = Ref.new(run, []).get(ref)
    def include?(k)
      raise "include? #{k}" unless k == 'tags'
      raise "event.include?('tags') as a value"
    end
  end
end

module LogStash
  module Filters; Grok = Port::Grok; end
  Event = Port::Event
end

module GrokHelpers
  module PatternModeSupport
    @@pattern_mode = nil
    def pattern_mode = @@pattern_mode
    module_function :pattern_mode
    def pattern_mode=(mode); @@pattern_mode = mode; end
  end

  def ecs_compatibility?
    case ecs_compatibility
    when :disabled then false
    when nil then nil
    else true
    end
  end

  def ecs_compatibility
    case mode = PatternModeSupport.pattern_mode
    when 'legacy' then :disabled
    when 'ecs-v1' then :v1
    when nil then nil
    else fail "pattern_mode: #{mode.inspect}"
    end
  end

  def grok_match(label, message, exact_match = false) = grok_match_event(label, message, exact_match).to_hash

  def grok_match_event(label, message, exact_match = false)
    grok = build_grok(label, exact_match)
    event = build_event(message)
    grok.filter(event)
    event
  end

  def grok_exact_match(label, message) = grok_match(label, message, true)

  def build_grok(label, exact_match = false)
    grok_opts = { "match" => [ "message", exact_match ? "^%{#{label}}$" : "%{#{label}}" ] }
    ecs_compat = ecs_compatibility
    grok_opts["ecs_compatibility"] = ecs_compat unless ecs_compat.nil?
    grok = LogStash::Filters::Grok.new(grok_opts)
    grok.register
    grok
  end

  def build_event(message) = LogStash::Event.new("message" => message)

  # the recording matchers
  def expect(actual = nil) = Port::Expectation.new(actual)
  def should(m) = expect(subject).to(m)
  def should_not(m) = expect(subject).to_not(m)
  def include(*a) = Port::Matcher.new(:include, a)
  def eq(v) = Port::Matcher.new(:eq, [v])
  def eql(v) = Port::Matcher.new(:eq, [v])
  def be(v = :nope)
    raise "be(#{v.inspect})" unless v.nil?
    Port::Matcher.new(:be_nil, [])
  end
  def be_nil = Port::Matcher.new(:be_nil, [])
  def pass = Port::Matcher.new(:pass, [])
  def match(v) = v.is_a?(Regexp) ? Port::Matcher.new(:regexp, [v]) : Port::Matcher.new(:match_pattern, [v])
  def start_with(v) = Port::Matcher.new(:start_with, [v])
  def end_with(v) = Port::Matcher.new(:end_with, [v])
  def have_key(v) = Port::Matcher.new(:have_key, [v])
  def be_a(v) = Port::Matcher.new(:be_a, [v])
  def hash_including(h) = Port::HashIncluding.new(h)
end

RSpec.configure do |c|
  c.include GrokHelpers
  c.include GrokHelpers::PatternModeSupport
  c.extend GrokHelpers::PatternModeSupport
  c.around(:each) do |ex|
    Port.current = []
    Port.vacuous = false
    ex.run
    file = File.basename(ex.metadata[:spec_file] || ex.metadata[:file_path], '_spec.rb')
    mode = ex.full_description.include?('(ecs-v1)') ? 'ecs-v1' : 'legacy'
    base = {family: file, mode: mode, example: ex.full_description, line: ex.metadata[:line_number]}
    pending = ex.metadata[:pending] || ex.execution_result.pending_message
    runs = Port.current.select { |r| !r.checks.empty? }.map(&:to_h)
    if pending && !runs.empty?
      # RSpec expects a pending example to fail (Logstash fails it too)
      Port.vectors << base.merge(pending: ex.execution_result.pending_message || pending.to_s, runs: runs)
    elsif ex.exception
      Port.unported << base.merge(error: ex.exception.message.lines.first.to_s.strip)
    elsif runs.empty?
      # the example checks nothing in this mode (if ecs_compatibility?...)
      Port.vectors << base.merge(vacuous: true)
    else
      Port.vectors << base.merge(runs: runs)
    end
  end
  c.after(:suite) do
    out = ENV.fetch('PORT_OUT')
    unless Port.unported.empty? # write nothing: a partial port would pass for a whole one
      warn Port.unported.map { |v| JSON.generate(v) }
      abort "#{Port.unported.size} examples could not be ported"
    end
    File.write(out, Port.vectors.map { |v| JSON.generate(v) + "\n" }.join)
  end
end

def describe_pattern(name, pattern_modes = [ nil ], &block)
  spec_file = caller_locations(1, 1)[0].path # (RSpec would name this file)
  pattern_modes.each do |mode|
    RSpec.describe "#{name}#{mode ? " (#{mode})" : nil}", spec_file: spec_file do
      before(:each) do
        @restore_pattern_mode = pattern_mode
        self.pattern_mode = mode
      end
      after(:each) do
        self.pattern_mode = @restore_pattern_mode
      end
      let(:pattern) { name }
      let(:message) { raise 'let(:message) { ... } is missing' }
      let(:event) { grok_match_event(pattern, message) }
      let(:grok) { event.to_hash }
      subject(:grok_result) { grok }
      instance_eval(&block)
    end
  end
end

RSpec.shared_examples_for 'top-level namespaces' do |namespaces, opts|
  it "event is expected to only use namespaces: #{namespaces.inspect}" do
    if instance_exec &(opts[:if] || -> { true })
      subject.run.checks << {'op' => 'namespaces', 'path' => [], 'values' => namespaces + ['message', '@timestamp', '@version']}
    else
      Port.vacuous = true # Logstash's example checks nothing in this mode
    end
  end
end
