# PyTorch twin of 3 IRNet classifier SGD steps (lr 0.1 / head 1.0, momentum 1e-4, wd 1e-4, frozen BN, stages 1-2
# detached) on batches dumped by conta (/tmp/dbg_x*.npy, dbg_y*.npy, dbg_w.npy). Both gave losses 0.7253, 0.7453, 0.62
# and backbone gradient norms 3.07, 12.8, 14.9, which at the time read as "the divergence on the VOC sample is the
# recipe's". It was not: the dumped batches themselves were torchvision-normalised RGB, while the npm weights are a
# Caffe model wanting BGR minus the mean; with conta.data.Preprocess choosing CAFFE for them IRNet's lr 0.1 trains.
# The twin proves engine = PyTorch on identical input, nothing more. (It loads the weights torchvision-style.)
import json,struct,numpy as np,torch,torchvision,pathlib
torch.set_num_threads(2)
f=open(str(pathlib.Path.home()/'.cache/conta/weights/resnet50-imagenet.safetensors'),'rb'); n=struct.unpack('<Q',f.read(8))[0]; h=json.loads(f.read(n)); d=f.read()
sd={k:torch.from_numpy(np.frombuffer(d[v['data_offsets'][0]:v['data_offsets'][1]],dtype=np.float32).reshape(v['shape']).copy()) for k,v in h.items() if k!='__metadata__'}
m=torchvision.models.resnet50(replace_stride_with_dilation=None)
m.layer4[0].conv2.stride=(1,1); m.layer4[0].downsample[0].stride=(1,1)   # IRNet strides (2,2,2,1)
print(m.load_state_dict(sd,strict=False))
m.eval()  # frozen BN: running stats; gamma/beta still trainable
cls=torch.nn.Conv2d(2048,20,1,bias=False); cls.weight.data=torch.from_numpy(np.load('/tmp/dbg_w.npy'))
for p in list(m.conv1.parameters())+list(m.bn1.parameters())+list(m.layer1.parameters())+list(m.layer2.parameters()): p.requires_grad=False
bb=[p for p in list(m.layer3.parameters())+list(m.layer4.parameters())]
opt=torch.optim.SGD([{'params':bb,'lr':0.1,'weight_decay':1e-4},{'params':cls.parameters(),'lr':1.0,'weight_decay':1e-4}],lr=0.1,momentum=1e-4)
def fwd(x):
    x=m.maxpool(m.relu(m.bn1(m.conv1(x)))); x=m.layer2(m.layer1(x)).detach(); x=m.layer4(m.layer3(x))
    return cls(x.mean((2,3),keepdim=True)).view(x.shape[0],-1)
for s in range(3):
    x=torch.from_numpy(np.load(f'/tmp/dbg_x{s}.npy')); y=torch.from_numpy(np.load(f'/tmp/dbg_y{s}.npy'))
    opt.zero_grad(); l=torch.nn.functional.multilabel_soft_margin_loss(fwd(x),y); l.backward()
    gb=sum((p.grad**2).sum() for p in bb if p.grad is not None)**0.5; gh=cls.weight.grad.norm()
    print('step',s,'loss',l.item(),'|g| backbone %.3g head %.3g'%(gb,gh)); opt.step()
