#!/usr/bin/env python3
"""Writes an MLIR test program for routing-to-device-exact.test.

main() routes T = 300 tokens over E = 16 experts (logits with many exact
ties, NaN and -inf) through moe.route variants (softmax / sigmoid, both
orders, bias, expert groups with max and top2_sum scores, dynamic k,
renormalisation, scale, mask and logit offsets, f16 and bf16 logits), and
some of them through moe.dispatch (dropless and with a capacity; 300 tokens
are several dispatch chunks), moe.permute and moe.combine; it prints every
result as i32 bits, so that two lowerings can be compared bit for bit.
"""
import random

random.seed(7)
T, E = 300, 16
def val():
    r = random.random()
    if r < 0.02: return 'nan' 
    if r < 0.04: return '-inf'
    if r < 0.5: return repr(random.choice([-1.0, -0.5, 0.0, 0.25, 0.5, 1.0]))  # ties
    return repr(round(random.uniform(-4, 4), 3))
def dense(rows, fmt):
    return '[' + ','.join('[' + ','.join(fmt(x) for x in r) + ']' for r in rows) + ']'
logits = [[val() for _ in range(E)] for _ in range(T)]
# NaN and -inf go in through a select (placeholders in the dense literal).
def lit(x):
    return {'nan': '0.0', '-inf': '-1.0e30'}.get(x, x)
L = dense(logits, lit)
nanmask = dense([[ 'true' if x == 'nan' else 'false' for x in r] for r in logits], str)
bias = '[' + ','.join(repr(round(random.uniform(-0.3, 0.3), 2)) for _ in range(E)) + ']'
offs = '[' + ','.join(repr(random.choice([0.0, 0.5, -0.5])) for _ in range(E)) + ']'
mask = '[' + ','.join(random.choice(['true', 'true', 'true', 'false']) for _ in range(E)) + ']'
variants = [
  ('f32', '#moe.routing<k = 2, renormalize = true>', ''),
  ('f32', '#moe.routing<k = 4, score = sigmoid, n_groups = 4, top_groups = 2, scale = 2.5>', 'bias'),
  ('f32', '#moe.routing<k = 4, score = sigmoid, n_groups = 8, top_groups = 3, group_score = top2_sum, renormalize = true>', 'bias'),
  ('f32', '#moe.routing<k = 3, order = topk_then_score>', ''),
  ('f32', '#moe.routing<k = 3, order = topk_then_score, score = sigmoid, renormalize = true>', 'bias'),
  ('f32', '#moe.routing<k = 4, threshold = 0.6, renormalize = true>', ''),
  ('f32', '#moe.routing<k = 2>', 'mask offsets'),
  ('f16', '#moe.routing<k = 2, renormalize = true>', 'bias'),
  ('bf16', '#moe.routing<k = 3, order = topk_then_score>', ''),
]
out = []
out.append('func.func private @printMemrefI32(memref<*xi32>)')
out.append('func.func @main() {')
out.append(f'  %raw = arith.constant dense<{L}> : tensor<{T}x{E}xf32>')
out.append(f'  %isnan = arith.constant dense<{nanmask}> : tensor<{T}x{E}xi1>')
out.append(f'  %biasf32 = arith.constant dense<{bias}> : tensor<{E}xf32>')
out.append(f'  %offs32 = arith.constant dense<{offs}> : tensor<{E}xf32>')
out.append(f'  %mask = arith.constant dense<{mask}> : tensor<{E}xi1>')
out.append(f'  %nanv = arith.constant 0x7FC00000 : f32')
out.append(f'  %e32 = tensor.empty() : tensor<{T}x{E}xf32>')
out.append(f'''  %logitsf32 = linalg.generic {{indexing_maps = [affine_map<(a,b)->(a,b)>, affine_map<(a,b)->(a,b)>, affine_map<(a,b)->(a,b)>], iterator_types = ["parallel","parallel"]}} ins(%raw, %isnan : tensor<{T}x{E}xf32>, tensor<{T}x{E}xi1>) outs(%e32 : tensor<{T}x{E}xf32>) {{
  ^bb0(%x: f32, %n: i1, %o: f32):
    %y = arith.select %n, %nanv, %x : f32
    linalg.yield %y : f32
  }} -> tensor<{T}x{E}xf32>''')
for ty in ('f16', 'bf16'):
    out.append(f'  %e{ty} = tensor.empty() : tensor<{T}x{E}x{ty}>')
    out.append(f'''  %logits{ty} = linalg.generic {{indexing_maps = [affine_map<(a,b)->(a,b)>, affine_map<(a,b)->(a,b)>], iterator_types = ["parallel","parallel"]}} ins(%logitsf32 : tensor<{T}x{E}xf32>) outs(%e{ty} : tensor<{T}x{E}x{ty}>) {{
  ^bb0(%x: f32, %o: {ty}):
    %y = arith.truncf %x : f32 to {ty}
    linalg.yield %y : {ty}
  }} -> tensor<{T}x{E}x{ty}>''')
    out.append(f'  %b{ty}e = tensor.empty() : tensor<{E}x{ty}>')
    out.append(f'''  %bias{ty} = linalg.generic {{indexing_maps = [affine_map<(a)->(a)>, affine_map<(a)->(a)>], iterator_types = ["parallel"]}} ins(%biasf32 : tensor<{E}xf32>) outs(%b{ty}e : tensor<{E}x{ty}>) {{
  ^bb0(%x: f32, %o: {ty}):
    %y = arith.truncf %x : f32 to {ty}
    linalg.yield %y : {ty}
  }} -> tensor<{E}x{ty}>''')
def printi(name, shape):
    out.append(f'  %m_{name} = bufferization.to_buffer %{name} : tensor<{shape}xi32> to memref<{shape}xi32>')
    out.append(f'  %u_{name} = memref.cast %m_{name} : memref<{shape}xi32> to memref<*xi32>')
    out.append(f'  call @printMemrefI32(%u_{name}) : (memref<*xi32>) -> ()')
def bits(name, src, shape, ty):
    # float tensor -> i32 bits (f16/bf16 extended exactly to f32 first)
    ext = '' if ty == 'f32' else f'%z = arith.extf %x : {ty} to f32\n    '
    v = '%x' if ty == 'f32' else '%z'
    out.append(f'  %be_{name} = tensor.empty() : tensor<{shape}xi32>')
    rank = shape.count('x') + 1
    dims = ','.join('d%d' % i for i in range(rank))
    out.append(f'''  %{name} = linalg.generic {{indexing_maps = [affine_map<({dims})->({dims})>, affine_map<({dims})->({dims})>], iterator_types = [{','.join(['"parallel"']*rank)}]}} ins(%{src} : tensor<{shape}x{ty}>) outs(%be_{name} : tensor<{shape}xi32>) {{
  ^bb0(%x: {ty}, %o: i32):
    {ext}%y = arith.bitcast {v} : f32 to i32
    linalg.yield %y : i32
  }} -> tensor<{shape}xi32>''')
for i, (ty, attr, extra) in enumerate(variants):
    k = int(attr.split('k = ')[1].split(',')[0].split('>')[0])
    ops = ''
    if 'bias' in extra: ops += f' bias(%bias{ty} : tensor<{E}x{ty}>)'
    if 'mask' in extra: ops += f' mask(%mask : tensor<{E}xi1>)'
    if 'offsets' in extra: ops += f' offsets(%offs32 : tensor<{E}xf32>)'
    out.append(f'  %w{i}, %ids{i} = moe.route %logits{ty}{ops} {{routing = {attr}}} : tensor<{T}x{E}x{ty}> -> tensor<{T}x{k}x{ty}>, tensor<{T}x{k}xi32>')
    bits(f'wb{i}', f'w{i}', f'{T}x{k}', ty)
    printi(f'wb{i}', f'{T}x{k}')
    printi(f'ids{i}', f'{T}x{k}')
    if i in (0, 5, 7):
        # dispatch (with and without capacity) + permute + combine on the f32 route results
        H = 4
        wsrc = f'w{i}'
        if ty != 'f32':
            out.append(f'  %wf{i}e = tensor.empty() : tensor<{T}x{k}xf32>')
            out.append(f'''  %wf{i} = linalg.generic {{indexing_maps = [affine_map<(a,b)->(a,b)>, affine_map<(a,b)->(a,b)>], iterator_types = ["parallel","parallel"]}} ins(%w{i} : tensor<{T}x{k}x{ty}>) outs(%wf{i}e : tensor<{T}x{k}xf32>) {{
  ^bb0(%x: {ty}, %o: f32):
    %y = arith.extf %x : {ty} to f32
    linalg.yield %y : f32
  }} -> tensor<{T}x{k}xf32>''')
            wsrc = f'wf{i}'
        for cap, capattr in (('n', ''), ('c', ', capacity_factor = 0.75 : f64')):
            R = T * k
            out.append(f'  %tok{i}{cap}, %rw{i}{cap}, %off{i}{cap} = moe.dispatch %ids{i}, %{wsrc} {{num_experts = {E} : i64{capattr}}} : tensor<{T}x{k}xi32>, tensor<{T}x{k}xf32> -> tensor<{R}xi32>, tensor<{R}xf32>, tensor<{E+1}xi32>')
            printi(f'tok{i}{cap}', f'{R}')
            printi(f'off{i}{cap}', f'{E+1}')
            bits(f'rwb{i}{cap}', f'rw{i}{cap}', f'{R}', 'f32')
            printi(f'rwb{i}{cap}', f'{R}')
            out.append(f'  %x{i}{cap} = tensor.extract_slice %logitsf32[0, 0] [{T}, {H}] [1, 1] : tensor<{T}x{E}xf32> to tensor<{T}x{H}xf32>')
            out.append(f'  %p{i}{cap} = moe.permute %x{i}{cap}, %tok{i}{cap} : tensor<{T}x{H}xf32>, tensor<{R}xi32> -> tensor<{R}x{H}xf32>')
            out.append(f'  %init{i}{cap} = tensor.extract_slice %logitsf32[0, 4] [{T}, {H}] [1, 1] : tensor<{T}x{E}xf32> to tensor<{T}x{H}xf32>')
            out.append(f'  %y{i}{cap} = moe.combine %p{i}{cap}, %tok{i}{cap}, %rw{i}{cap} into %init{i}{cap} : tensor<{R}x{H}xf32>, tensor<{R}xi32>, tensor<{R}xf32> into tensor<{T}x{H}xf32>')
            bits(f'yb{i}{cap}', f'y{i}{cap}', f'{T}x{H}', 'f32')
            printi(f'yb{i}{cap}', f'{T}x{H}')
out.append('  return')
out.append('}')
print('\n'.join(out))
